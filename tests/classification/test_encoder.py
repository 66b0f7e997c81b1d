"""The NumPy forward pass of all-MiniLM-L6-v2 gives the reference model's embeddings."""

from __future__ import annotations

import numpy as np

from clearway.classification.encoder import shared_encoder

# The first 12 components of the reference embeddings (Hugging Face transformers BertModel with
# mean pooling and L2 normalisation, run once on the same packaged weights).
REFERENCE = {
    "men's waterproof jacket, polyester": [
        -0.03601,
        0.0932,
        0.06435,
        0.07716,
        0.07925,
        -0.01457,
        0.1371,
        -0.06006,
        -0.12351,
        -0.00298,
        -0.06527,
        -0.03178,
    ],
    "男士防水夹克": [
        -0.01606,
        0.08772,
        0.03557,
        -0.00093,
        0.00905,
        0.02076,
        0.15391,
        -0.00866,
        -0.00639,
        -0.03538,
        0.11514,
        -0.10384,
    ],
}


def test_embeddings_match_the_reference_implementation() -> None:
    enc = shared_encoder()
    texts = list(REFERENCE)
    vectors = enc.encode(texts)
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for row, text in zip(vectors, texts, strict=True):
        np.testing.assert_allclose(row[:12], REFERENCE[text], atol=5e-4)


def test_a_batch_gives_the_same_vectors_as_one_at_a_time() -> None:
    enc = shared_encoder()
    texts = ["cotton t-shirt", "a much longer description of a stainless steel kitchen knife set"]
    together = enc.encode(texts)
    apart = np.vstack([enc.encode([t]) for t in texts])
    np.testing.assert_allclose(together, apart, atol=1e-5)


def test_similar_goods_are_closer_than_unrelated_goods() -> None:
    a, b, c = shared_encoder().encode(
        ["men's waterproof jacket", "anorak for men, synthetic fibres", "fresh apples"]
    )
    assert float(a @ b) > float(a @ c) + 0.2
