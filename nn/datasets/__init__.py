"""Data files shipped with chainrule (read by `chainrule.nn.data.load_digits`).

digits.csv.gz: the UCI handwritten digits (8x8 images, pixels 0..16, labels 0..9), under
CC BY 4.0: see LICENSE-digits.txt beside it.
"""
