"""minibert from Python: classification, embeddings and tokens with the demo model.

    MINIBERT_C_LIBRARY=build/libminibert_c.so PYTHONPATH=python python3 examples/python/classify.py models/sst2-student
"""
import sys

import numpy as np

import minibert

model = minibert.Model.load(sys.argv[1] if len(sys.argv) > 1 else "models/sst2-student", threads=1)
texts = ["a gorgeous, witty, seductive movie.", "the plot is dull and the acting worse"]
for text, result in zip(texts, model.classify(texts)):
    print("%-9s %.3f  %s" % (result.label, result.score, text))

vectors = model.encode(texts, normalize=True)  # numpy float32 [2 x hidden]
print("cosine %.4f, shape %s" % (float(np.dot(vectors[0], vectors[1])), vectors.shape))
print("tokens:", model.tokenize(texts[0]).tokens)
try:
    minibert.Model.load("/no/such/folder")
except minibert.Error as e:
    print("error:", e)
