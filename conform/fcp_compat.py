"""Nested sequences in FCP7 XML: otio-fcp-adapter 1.x parses a clipitem's nested <sequence> by looking for
<video>/<audio> right under <sequence>, where they sit under <sequence><media>, so every nested sequence
came back as an empty Stack and its clips were never checked. Applied once, before the adapter reads."""

from __future__ import annotations


def install() -> None:
    import opentimelineio as otio

    fcp_xml = otio.adapters.from_name("fcp_xml").module()
    parser = fcp_xml.FCP7XMLParser
    if getattr(parser, "_postprod_nested_media", False):
        return
    original = parser.stack_for_element

    def stack_for_element(self, element, context):
        media = self._derefed_element(element.find("./media")) if element.tag == "sequence" else None
        if media is None:
            return original(self, element, context)
        # The sequence's own context (its rate) first, then its media, as the top-level reader does.
        stack = original(self, media, context.context_pushing_element(element))
        stack.name = fcp_xml._name_from_element(element) or stack.name
        return stack

    parser.stack_for_element = stack_for_element
    parser._postprod_nested_media = True
