"""Wording shared by our JSON Schema validators: what a schema allows, in a few words."""


def allowed(schema: dict) -> str:
    """'a port from 1 to 65535', "one of 'host', 'bridge'", 'a value of type string'..."""
    if "description" in schema:
        return schema["description"]
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return "a value of type " + " or ".join(types)
    return "a valid value"
