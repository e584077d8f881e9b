"""seq2seq_spa_eng: the same translator without attention (c = h_n), the
lecture's baseline.

Run:
    python -m pipelines.train seq2seq_spa_eng

Everything as seq2seq_attn_spa_eng, except that the decoder's context is
the encoder's final state at every step.
"""

from pipelines.configs.seq2seq_attn_spa_eng import CONFIG as _ATTENTION

CONFIG = dict(_ATTENTION, model=dict(_ATTENTION["model"], use_attention=False))
