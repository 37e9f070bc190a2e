"""Trains a logistic-regression model with SGD one pass at a time, so every
pass prints a metrics line (a curve in kiln), and writes model.pkl."""
import argparse
import glob
import json
import os
import pickle

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--max_iter", type=int, default=40)
parser.add_argument("--learning_rate", default="optimal")
parser.add_argument("--seed", type=int, default=7)
args = parser.parse_args()
if args.C <= 0 or args.max_iter < 1:
    raise SystemExit("C must be > 0 and max_iter >= 1")

inputs = os.environ.get("VH_INPUTS_DIR", "/valohai/inputs")
outputs = os.environ.get("VH_OUTPUTS_DIR", "/valohai/outputs")
files = sorted(glob.glob(os.path.join(inputs, "train", "*.csv")))
if not files:
    raise SystemExit("no CSV file in the train input")
data = np.loadtxt(files[0], delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(int)
classes = np.unique(y)

scaler = StandardScaler().fit(x)
x_scaled = scaler.transform(x)
# alpha = 1 / (C * n) makes C mean what it means for LogisticRegression.
model = SGDClassifier(
    loss="log_loss",
    alpha=1.0 / (args.C * len(y)),
    learning_rate=args.learning_rate,
    eta0=0.01,
    random_state=args.seed,
)
rng = np.random.default_rng(args.seed)
for iteration in range(1, args.max_iter + 1):
    order = rng.permutation(len(y))
    model.partial_fit(x_scaled[order], y[order], classes=classes)
    probabilities = model.predict_proba(x_scaled)
    print(
        json.dumps(
            {
                "iteration": iteration,
                "train_loss": round(float(log_loss(y, probabilities, labels=classes)), 6),
                "train_accuracy": round(float(accuracy_score(y, model.predict(x_scaled))), 6),
            }
        ),
        flush=True,
    )

os.makedirs(outputs, exist_ok=True)
with open(os.path.join(outputs, "model.pkl"), "wb") as handle:
    pickle.dump(make_pipeline(scaler, model), handle)
