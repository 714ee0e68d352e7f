"""Parse one party's contact text: name, phone, address and its province / city / district / detail.

    >>> from luodi.kie.contact import parse_contact
    >>> c = parse_contact("黑龙江省双鸭山市尖山区八马路与东平行路交叉口北40米韦业涛18600009172")
    >>> c.name.value, c.phone.value, c.province.value, c.district.value
    ('韦业涛', '18600009172', '黑龙江省', '尖山区')

Three sources are combined: the express-NER BiGRU-CRF (character tags and their posteriors), phone
rules (:mod:`luodi.kie.contact.phones`, which decide what a phone is and normalise it) and the
administrative-division gazetteer (:mod:`luodi.kie.gazetteer`: an input feature of the model, and a
consistency check of the province / city / district found). Every value is the exact substring of
the input (a phone's value is its normalised digits; ``start``/``end`` still point at the text).
"""

from __future__ import annotations

from luodi.kie.contact.parser import (
    Contact,
    ContactOptions,
    ContactParser,
    Region,
    Span,
    get_contact_parser,
    parse_contact,
    parse_contacts,
)
from luodi.kie.contact.phones import PhoneMatch, find_phones, normalize_phone

__all__ = [
    "Contact",
    "ContactOptions",
    "ContactParser",
    "PhoneMatch",
    "Region",
    "Span",
    "find_phones",
    "get_contact_parser",
    "normalize_phone",
    "parse_contact",
    "parse_contacts",
]
