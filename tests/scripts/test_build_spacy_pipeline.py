"""The spaCy pipeline is built the same from the same knowledge base.

Rasa retrains the classifier whenever the pipeline's files change
(components/name_masker.py), so a build that varied from run to run (say, with
Python's hash seed) would retrain it on every `make train`.
"""

import os
import subprocess
import sys

from components.name_masker import pipeline_fingerprint
from tests.conftest import ROOT


def build(path, seed):
    subprocess.run([sys.executable, "-m", "scripts.build_spacy_pipeline", str(path)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True)
    return pipeline_fingerprint(path)


def test_two_builds_are_identical(tmp_path):
    assert build(tmp_path / "a", "1") == build(tmp_path / "b", "2") is not None
