"""Splits the iris data set (shipped with scikit-learn: no download) into
train and test CSV files in /valohai/outputs."""
import argparse
import json
import os

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--test_size", type=float, default=0.3)
parser.add_argument("--seed", type=int, default=7)
args = parser.parse_args()

outputs = os.environ.get("VH_OUTPUTS_DIR", "/valohai/outputs")
os.makedirs(outputs, exist_ok=True)

data = load_iris()
x_train, x_test, y_train, y_test = train_test_split(
    data.data,
    data.target,
    test_size=args.test_size,
    random_state=args.seed,
    stratify=data.target,
)
header = ",".join(data.feature_names + ["label"])
for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
    rows = np.column_stack([x, y])
    np.savetxt(
        os.path.join(outputs, f"{name}.csv"),
        rows,
        delimiter=",",
        header=header,
        comments="",
        fmt="%g",
    )

print(json.dumps({"train_samples": len(y_train), "test_samples": len(y_test)}))
