"""``luodi train kie``: learn where the fields of a label-less document type lie, from a few
labelled examples (:mod:`luodi.kie.learned`)."""

from __future__ import annotations

from pathlib import Path

import click

from luodi.cli import common


@click.command("kie")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The schema YAML whose fields the labels name.",
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help='KIE JSONL: {"image", "fields", "boxes"?} per line, images relative to the file '
    "(what `luodi review export --format kie` writes).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the learned layout (default: beside the schema, NAME.learned.json, which "
    "`luodi extract --schema NAME.yaml` then uses).",
)
@click.option("--model", "-m", default=None, help="OCR model bundle (default: settings, pp-ocrv6-small).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads per model.")
def kie(schema_file: Path, labels_file: Path, output: Path | None, model: str | None, threads: int | None) -> None:
    """Learn each field's place (from printed anchors and neighbouring fields) and text shape."""
    from luodi.errors import InputNotFoundError
    from luodi.kie.learned import learn, learned_path, read_examples
    from luodi.kie.schema import load_schema
    from luodi.ocr.pipeline import OCR

    schema = load_schema(schema_file)
    if not labels_file.is_file():  # before the OCR models load
        raise InputNotFoundError(f"labels file {labels_file} does not exist")
    ocr = OCR(model, threads=threads)
    examples = read_examples(labels_file, ocr, schema=schema)
    layout = learn(schema, examples)
    out = output if output is not None else learned_path(schema_file)
    layout.save(out)
    say = common.say
    for note in layout.notes:
        say(f"note: {note}")
    missing = [n for n in schema.fields if n not in layout.field_names]
    if missing:
        say(f"not learned (no example value found): {', '.join(missing)}")
    arrangements = ", ".join(f"{v.examples} examples, {len(v.anchors)} anchors" for v in layout.variants)
    say(f"learned {len(layout.field_names)} fields from {layout.examples} examples ({arrangements})")
    click.echo(str(out))
