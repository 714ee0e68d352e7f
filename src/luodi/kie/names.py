"""Which text can be a party's name: a person, or an organisation written where a name goes."""

from __future__ import annotations

import re

from luodi.kie.layout import Run
from luodi.kie.parties import Span, is_simple_name
from luodi.kie.surnames import has_surname

NAME_RUN = re.compile(r"[\u4e00-\u9fff]+(?:·[\u4e00-\u9fff]+)*")
# Words printed on Chinese forms that are never a person's name, beside the schema's own labels.
NOT_NAMES = frozenset(
    (
        "件数", "内件", "物品", "品名", "重量", "数量", "公斤", "千克", "签名", "签字", "日期", "时间", "备注",
        "姓名", "电话", "手机", "地址", "联系人", "收件", "寄件", "快递", "快件", "运单", "单号", "付款", "到付",
        "现付", "月结", "寄付", "保价", "代收", "货款", "打印", "详情", "信息", "客户",
    )
)  # fmt: skip


def plausible_name(word: str, labels: frozenset[str]) -> bool:
    """A Han word that may be a person's name: not a label or a form word, and not longer than a
    name gets (four characters, or more with a surname such as 慕容 or a · separated name)."""
    if word in labels or word in NOT_NAMES or any(word.startswith(w) or word.endswith(w) for w in NOT_NAMES):
        return False
    if len(word) >= 3 and any(one_char_off(word, lab) for lab in labels if len(lab) == len(word)):
        return False  # a misread label (联原人 for 联系人), not a person
    plain = word.replace("·", "")
    return len(plain) <= 4 or "·" in word or (len(plain) <= 5 and has_surname(word))


def person_name(span: Span | None, labels: frozenset[str]) -> Span | None:
    """The part of a name span that can be a person's name: a run of Han characters (· allowed)
    that is not a label of this schema, a unit or a word of the form; digits, +86 and other
    symbols are cut off (陆艳丽X9 → 陆艳丽). None when nothing plausible is left."""
    if span is None:
        return None
    best: tuple[tuple[int, int, int], int, int] | None = None
    for m in NAME_RUN.finditer(span.value):
        word = m.group()
        if len(word.replace("·", "")) < 2 or not plausible_name(word, labels):
            continue
        # A surname and a usual length make a name; among equals the first one.
        rank = (int(has_surname(word)), int(2 <= len(word) <= 4), -m.start())
        if best is None or rank > best[0]:
            best = (rank, m.start(), m.end())
    if best is None:
        return None
    _, s, e = best
    if (s, e) == (0, len(span.value)):
        return span
    return Span(span.value[s:e], span.start + s, span.start + e, span.score * 0.95)


def whole_name_box(name: Span, run: Run) -> Span:
    """A name cut inside an OCR box that holds just a short name (荆 of the box 荆改) is the box:
    printed names sit in their own box or are followed by the phone, so the box edge wins."""
    offset = 0
    for p in run:
        n = p.end - p.start
        if offset <= name.start and name.end <= offset + n and (name.start, name.end) != (offset, offset + n):
            text = p.text.strip()
            lead = len(p.text) - len(p.text.lstrip())
            if text and is_simple_name(text):
                s = offset + lead
                return Span(text, s, s + len(text), max(name.score, 0.8))
            break
        offset += n
    return name


def one_char_off(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


# Organisations written where a party's name goes: companies, shops, public bodies.
_ORG_SUFFIX = (
    "股份有限公司|有限责任公司|有限公司|分公司|公司|集团|旗舰店|专卖店|专营店|官方店|商行|经营部|门市部|"
    "工作室|超市|医院|诊所|学校|小学|中学|大学|学院|研究院|研究所|事务所|办事处|委员会|居委会|村委会|"
    "人民政府|政府|管理局|税务局|公安局|派出所|法院|检察院|银行|支行|分行|营业部|服务中心|"
    # Public and trade premises that send and receive parcels under their own name.
    "图书馆|博物馆|纪念馆|档案馆|体育馆|文化馆|美术馆|酒店|宾馆|饭店|药店|药房|大药房|幼儿园|卫生院|"
    "门诊部|出版社|杂志社|报社|电视台|合作社|协会|商会|基金会|加工厂|制品厂"
)
_ORG = re.compile(rf"[\u4e00-\u9fff()（）·A-Za-z0-9]{{2,30}}?(?:{_ORG_SUFFIX})")
_ORG_END = re.compile(_ORG_SUFFIX)


def organisation(span: Span) -> Span | None:
    """An organisation's name at the start of a party block (深圳市某某科技有限公司, 某某旗舰店,
    某某区人民政府): it ends at its suffix and stands alone, before a phone, a space or the end."""
    text = span.value
    lead = len(text) - len(text.lstrip())
    best: int | None = None
    # The longest name that ends at a suffix and stands alone (中国农业银行杭州分行, not 中国农业银行).
    for m in _ORG_END.finditer(text, lead):
        whole = _ORG.fullmatch(text, lead, m.end())
        rest = text[m.end() :]
        if whole is not None and (not rest or rest[0].isspace() or rest[0].isdigit() or rest[0] in ",，;；:：|/+"):
            best = m.end()
    if best is None:
        return None  # 北京大学东门: a place in an address, not the party
    return Span(text[lead:best], span.start + lead, span.start + best, span.score)


# Hanyu Pinyin syllables without tones (the standard table; lyu / nyu as passports write ü).
_PINYIN = """a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu pa pai pan pang pao pei
    pen peng pi pian piao pie pin ping po pou pu ma mai man mang mao me mei men meng mi mian miao mie min ming
    miu mo mou mu fa fan fang fei fen feng fo fou fu da dai dan dang dao de dei deng di dian diao die ding diu
    dong dou du duan dui dun duo ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
    na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo nv nve nyu la
    lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve lyu
    ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ka kai kan kang kao ke kei
    ken keng kong kou ku kua kuai kuan kuang kui kun kuo ha hai han hang hao he hei hen heng hong hou hu hua
    huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun qi qia qian qiang
    qiao qie qin qing qiong qiu qu quan que qun xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
    zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo cha
    chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo sha shai shan
    shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo ra ran rang rao re ren
    reng ri rong rou ru rua ruan rui run ruo za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun
    zuo ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo sa sai san sang sao se sen seng si song
    sou su suan sui sun suo ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun wa wai wan wang wei wen
    weng wo wu e ei en eng er o ou"""
_SYLLABLES = frozenset(_PINYIN.split())
# Words apart by spaces, a hyphen or a comma (full-width too: OCR reads Jin， Zhinuo).
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ \-,，]+[A-Za-z]+){1,3}")


def pinyin_syllables(word: str) -> int:
    """How many pinyin syllables ``word`` is made of (0: it is not pinyin: EXPRESS, STO, Tel)."""
    w = word.lower()
    best = [0] + [-1] * len(w)  # fewest syllables covering w[:i]
    for i in range(1, len(w) + 1):
        for k in range(max(0, i - 6), i):
            if best[k] >= 0 and w[k:i] in _SYLLABLES and (best[i] < 0 or best[k] + 1 < best[i]):
                best[i] = best[k] + 1
    return max(best[-1], 0)


def glued_romanised_name(text: str) -> Span | None:
    """A romanised name whose words OCR read without the space between them (PANZHI for PAN ZHI)
    at the start of ``text``: one word of two to four pinyin syllables, upper case or capitalised,
    then nothing more of the word. Only where a label says a name follows: on its own, a word
    like that is as often a place or a brand (SHANGHAI, HUAWEI)."""
    m = _GLUED_NAME.match(text)
    if m is None or not 2 <= pinyin_syllables(m.group(1)) <= 4:
        return None
    return Span(m.group(1), m.start(1), m.end(1), 0.8)


_GLUED_NAME = re.compile(r"\s*((?:[A-Z]{4,}|[A-Z][a-z]{3,}))(?![A-Za-z])")


def _capital_i(word: str) -> str:
    """``word`` with a lower-case l read for the capital I in a word otherwise in capitals (OCR reads
    WEI as WEl, LIU as LlU: the two glyphs are one stroke in most sans-serif faces)."""
    if "l" in word and len(word) >= 2 and word.replace("l", "I").isupper():
        return word.replace("l", "I")
    return word


def romanised_name(text: str) -> Span | None:
    """A romanised Chinese name at the start of ``text`` (ZHANG Wei, Li Xiaoming, JIA YINGJUAN,
    Xiao-Ming LI, Li, Xiaoming): two to four words, each of one to three pinyin syllables, two to
    four syllables in all. Words that are not pinyin (EXPRESS, Tel) end it or rule it out."""
    lead = len(text) - len(text.lstrip())
    m = _LATIN_NAME.match(text, lead)
    if m is None:
        return None
    words = [w for w in re.split(r"[ \-,，]+", m.group()) if w]
    kept: list[str] = []
    total = 0
    for w in words:
        n = pinyin_syllables(_capital_i(w))
        if not 1 <= n <= 3 or total + n > 4:
            break
        kept.append(w)
        total += n
    if len(kept) < 2 or total < 2:
        return None
    # The matched text up to the last kept word (separators inside it as printed).
    end = lead
    for w in kept:
        end = text.index(w, end) + len(w)
    return Span(text[lead:end], lead, end, 0.9)
