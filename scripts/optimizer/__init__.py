"""Pruning, distillation and quantisation pieces behind scripts/optimize.py (Debian's torch only).

model.py    a trainable BertForSequenceClassification with Hugging Face parameter names, per-layer
            head counts and FFN widths, head / neuron masks, and load / save as a folder minibert loads
distill.py  the loss terms: soft-label KD, hidden-state and attention-map MSE (TinyBERT), CE
prune.py    head and FFN-neuron importance (gradient of the loss w.r.t. a mask, on train data),
            selection, and physical removal that writes pruned_heads / intermediate_sizes
data.py     SST-2-style TSV reading and tokenisation (the demo trainer's WordPiece)
evaluate.py accuracy, agreement and output cosine against the teacher, run by minibert itself
"""
