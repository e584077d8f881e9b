"""Zoo model families: backbone, task model and presets per family.

Imported by `zoo`, so that every family's classes are registered with Keras
and saved `.keras` models reload after a plain `import zoo`.
"""

from zoo.models import gat, seq2seq, show_attend_tell, transformer_encoder

FAMILIES = [gat, seq2seq, show_attend_tell, transformer_encoder]
