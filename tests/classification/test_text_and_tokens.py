"""Words for retrieval and word pieces for the model."""

from __future__ import annotations

from clearway.classification.encoder import WordPiece, model_dir
from clearway.classification.text import words


def test_words_fold_case_accents_plurals_and_drop_filler() -> None:
    assert words("Men's Waterproof JACKETS, of polyester") == [
        "men",
        "waterproof",
        "jacket",
        "polyester",
    ]
    assert words("Veste imperméable") == ["veste", "impermeable"]
    assert words("lithium batteries, 2 boxes") == ["lithium", "battery", "box"]
    assert words("男士夹克") == ["男", "士", "夹", "克"]


def test_word_pieces_match_the_bert_uncased_vocabulary() -> None:
    tok = WordPiece(model_dir() / "vocab.txt")
    # [CLS]=101, [SEP]=102; "hello"=7592 and "world"=2088 in the uncased BERT vocabulary
    assert tok.encode("Hello, WORLD!") == [101, 7592, 1010, 2088, 999, 102]
    # a word the vocabulary lacks is split into pieces, never dropped
    pieces = tok.piece_ids("polyurethane")
    assert len(pieces) > 1 and tok.unk not in pieces
    assert tok.words("Café crème") == ["cafe", "creme"]
    assert len(tok.encode("word " * 500)) == 128
