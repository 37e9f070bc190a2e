"""Scores the trained model on the held-out split and prints accuracy and
macro F1 as one metrics line."""
import glob
import json
import os
import pickle

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

inputs = os.environ.get("VH_INPUTS_DIR", "/valohai/inputs")


def only_file(name, pattern):
    files = sorted(glob.glob(os.path.join(inputs, name, pattern)))
    if not files:
        raise SystemExit(f"no {pattern} file in the {name} input")
    return files[0]


# The model is our own pipeline's output, never a file from elsewhere:
# unpickling runs code.
with open(only_file("model", "*.pkl"), "rb") as handle:
    model = pickle.load(handle)
data = np.loadtxt(only_file("test", "*.csv"), delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(int)
predicted = model.predict(x)
print(
    json.dumps(
        {
            "accuracy": round(float(accuracy_score(y, predicted)), 6),
            "f1": round(float(f1_score(y, predicted, average="macro")), 6),
        }
    )
)
