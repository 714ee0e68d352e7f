"""Parcel photos with the real models, through the CLI: the label found, straightened and read; a
photo with no label; --no-locate."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from luodi.synth.parcel import ParcelOptions, render_scene, write_fake_ner

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _models(require_bundle: Callable[[str], object]) -> None:
    require_bundle("pp-ocrv6-small")


def luodi(*args: str | Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from luodi.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 3 MP phone photo of one label on a black bag, turned (classical geometry holds there, so
    this runs with or without the trained locator), and one of a bag with no label."""
    tmp = tmp_path_factory.mktemp("parcels")
    ner = write_fake_ner(tmp / "parties.txt", 50, seed=1)
    opts = ParcelOptions(families=("poly_dark",), labels=(1, 1), megapixels=(3.0, 3.0), seed=4, ner_file=str(ner))
    scene = next(
        s
        for s in (render_scene(i, opts) for i in range(10))
        if s.view == "closeup" and 40 < s.labels[0].angle % 90 < 80 and s.labels[0].art.layout != "ewaybill_3stub"
    )
    (tmp / "label.jpg").write_bytes(scene.jpeg_bytes())
    empty = render_scene(0, ParcelOptions(families=("poly_dark",), empty_rate=1.0, megapixels=(3.0, 3.0), seed=4))
    (tmp / "empty.jpg").write_bytes(empty.jpeg_bytes())
    return {"dir": tmp, "fields": scene.labels[0].art.fields}


def test_a_turned_label_on_a_bag_is_found_and_read(photos: dict[str, object]) -> None:
    folder = photos["dir"]
    assert isinstance(folder, Path)
    fields = photos["fields"]
    assert isinstance(fields, dict)
    ocr = luodi("ocr", folder / "label.jpg")
    assert ocr.returncode == 0, ocr.stderr
    (page,) = json.loads(ocr.stdout)["pages"]
    assert page["located"] and len(page["documents"]) == 1
    (doc,) = page["documents"]
    text = "".join(line["text"] for line in doc["lines"]).replace(" ", "")
    assert str(fields["tracking_number"]) in text
    # upright: the document's lines run left to right, one below the other
    tops = [line["box"][0][1] for line in doc["lines"]]
    assert sum(b >= a - 5 for a, b in itertools.pairwise(tops)) >= 0.8 * (len(tops) - 1)
    res = luodi("extract", folder / "label.jpg")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out["documents"]) == 1
    assert out["fields"]["tracking_number"]["value"] == fields["tracking_number"]
    assert out["documents"][0]["fields"]["tracking_number"]["value"] == fields["tracking_number"]


def test_no_label_is_empty_and_flagged_and_no_locate_reads_whole(photos: dict[str, object]) -> None:
    folder = photos["dir"]
    assert isinstance(folder, Path)
    res = luodi("extract", folder / "empty.jpg")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["documents"] == [] and out["needs_review"] and "no document" in out["reasons"][-1]
    assert all(f["value"] is None for f in out["fields"].values())
    whole = luodi("ocr", "--no-locate", folder / "label.jpg")
    assert whole.returncode == 0, whole.stderr
    (page,) = json.loads(whole.stdout)["pages"]
    assert page["located"] is False and page["documents"] == []
