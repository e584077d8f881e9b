"""transformer_encoder_sst2: self-attention sentence classifier on SST-2, from scratch.

Run:
    python -m pipelines.train transformer_encoder_sst2

Trains on the 67,349 SST-2 training phrases (no pretrained vectors), keeps
the epoch with the best dev accuracy, and reports dev and test accuracy on
the 872 / 1,821 sentences.
"""

CONFIG = dict(
    task="text_classification",
    dataset="sst2",
    max_tokens=None,        # every word of the training texts
    max_length=64,          # the longest SST-2 sentence has 56 tokens
    batch_size=64,
    unknown_rate=0.1,       # training tokens replaced by [UNK]
    learning_rate=5e-4,     # peak of the warm-up + cosine schedule
    warmup_fraction=0.1,
    weight_decay=0.01,
    max_epochs=8,
    patience=3,
    seed=0,
    logged_texts=3,
    model=dict(num_layers=2, num_heads=4, hidden_dim=128, ff_dim=512, dropout=0.1,
               merge="concat", norm_first=False, position_encoding="learned",
               standardize="lower_and_strip_punctuation"),
)
