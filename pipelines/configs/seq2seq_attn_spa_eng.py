"""seq2seq_attn_spa_eng: GRU encoder–decoder with additive attention, Spanish → English.

Run:
    python -m pipelines.train seq2seq_attn_spa_eng

Trains on the 114,204 Tatoeba training pairs (teacher forcing, masked
cross-entropy, Adam), keeps the epoch with the lowest validation loss, and
reports lower-cased corpus sacreBLEU and chrF on the 2,380 test pairs for
greedy and beam-4 decoding.
"""

CONFIG = dict(
    task="translation",
    dataset="tatoeba_spa_eng",
    max_source_tokens=16000,   # source vocabulary (about every word seen twice)
    max_target_tokens=8000,    # target vocabulary (words seen 3 times or more)
    batch_size=64,
    learning_rate=2e-3,        # halved when the validation loss stops improving
    clipnorm=1.0,
    max_epochs=10,
    patience=2,
    seed=0,
    logged_sentences=3,
    model=dict(embedding_dim=256, units=256, cell="gru", score="additive", use_attention=True,
               dropout=0.2, max_source_length=48, max_target_length=50),
)
