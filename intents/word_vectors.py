"""Pretrained word-piece vectors: the block of the intent model that knows what words mean.

TF-IDF features only know the words a store's own examples use: "parcel" teaches nothing
about "package", and "the label was created 9 days ago" shares no word with "where is my
order". Pretrained vectors put such messages close together, which is what took the model
past what lexical features alone can reach (see docs/benchmarks.md).

The vectors are WordLlama's ``l2_supercat`` embeddings (MIT licence): one 256-dimensional
vector per word piece of the Llama 2 tokenizer, trained so that the *mean* of a message's
word-piece vectors is a sentence embedding. They ship inside the ``wordllama`` wheel (16 MB),
so nothing is downloaded at run time and no message leaves the deployment. The package is
never imported: its two files are located and read here, and the pooling is done in numpy.
(Its own loader looks for the tokenizer in the wrong folder, then tries Hugging Face, which most
deployments cannot reach; importing it also configures the root logger.)

A message's vector is the L2-normalised sum of its word pieces' vectors (the mean has the same
direction). A few texts are embedded by gathering their rows; a large batch as a sparse count
matrix times the embedding table, so thousands of messages never materialise one vector per
word piece. The two agree up to float32 rounding.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT", "WordVectors", "WordVectorsUnavailable", "load"]

#: Name of the only vector set the model knows; stored in every artifact trained with it.
DEFAULT = "wordllama-l2-supercat-256"

_FILES = {
    DEFAULT: ("tokenizers/l2_supercat_tokenizer_config.json", "weights/l2_supercat_256.safetensors")
}


#: Batches up to this size are embedded by gathering rows, larger ones by a sparse product.
_GATHER_MAX_TEXTS = 32


class WordVectorsUnavailable(RuntimeError):
    """The vectors a model needs are not installed, or are not the ones it was trained with."""


class WordVectors:
    """A word-piece tokenizer and its embedding table. Immutable and safe to share between
    threads; load it with :func:`load` so every model in a process shares one copy."""

    def __init__(self, name: str, tokenizer_path: Path, weights_path: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        digest = hashlib.sha256()
        for path in (tokenizer_path, weights_path):
            with open(path, "rb") as f:  # streamed: reading 18 MB at once would stay resident
                digest.update(hashlib.file_digest(f, "sha256").digest())
        self.name = name
        #: Fingerprint of both files: an artifact records it, and loading a model on an
        #: installation with different vectors is refused instead of predicting nonsense.
        self.sha256 = digest.hexdigest()
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        with safe_open(str(weights_path), framework="np") as f:
            table = f.get_tensor("embedding.weight")
        self._table = np.ascontiguousarray(table, dtype=np.float32)
        self.size, self.dim = self._table.shape

    def __repr__(self) -> str:
        return f"WordVectors({self.name!r}, {self.size} word pieces x {self.dim})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text (all zeros for a text with no word piece)."""
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        encodings = self._tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        if n <= _GATHER_MAX_TEXTS:
            # A few texts (a live message): gathering their rows is ~10x faster than
            # building a sparse matrix.
            for row, enc in zip(out, encodings, strict=True):
                ids = [i for i in enc.ids if i < self.size]
                if ids:
                    self._table[ids].sum(axis=0, out=row)
        else:
            ids = [enc.ids for enc in encodings]
            lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=n)
            flat = np.fromiter((t for i in ids for t in i), dtype=np.int64, count=lengths.sum())
            rows = np.repeat(np.arange(n), lengths)
            known = flat < self.size
            counts = sp.csr_matrix(
                (np.ones(int(known.sum()), dtype=np.float32), (rows[known], flat[known])),
                shape=(n, self.size),
            )
            out[:] = counts @ self._table
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out /= norms
        return out

    def pieces(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The word pieces of one text that have a vector: their character ranges in
        ``text`` and their vectors, one row each; :meth:`embed` is their normalised sum."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        known = [
            (i, span)
            for i, span in zip(encoding.ids, encoding.offsets, strict=True)
            if i < self.size
        ]
        return [span for _, span in known], self._table[[i for i, _ in known]]


def load(name: str = DEFAULT) -> WordVectors:
    """The named vectors, loaded once per process (≈ 0.3 s; ≈ 50 MB of memory for the table
    and the tokenizer). Raises :class:`WordVectorsUnavailable` with a sentence when they
    cannot be loaded."""
    return _load(name)


@functools.cache
def _load(name: str) -> WordVectors:
    if name not in _FILES:
        raise WordVectorsUnavailable(f"Unknown word vectors {name!r}; this code knows {DEFAULT!r}.")
    spec = importlib.util.find_spec("wordllama")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise WordVectorsUnavailable(
            f"The word vectors {name!r} come with the wordllama package, which is not "
            "installed; run `make install`."
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    tokenizer_file, weights_file = (package / f for f in _FILES[name])
    try:
        return WordVectors(name, tokenizer_file, weights_file)
    except Exception as exc:  # missing, truncated or corrupt files all mean the same to a user
        raise WordVectorsUnavailable(
            f"The word vectors {name!r} in {package} cannot be read ({type(exc).__name__}: "
            f"{exc}); reinstall wordllama with `make install`."
        ) from None
