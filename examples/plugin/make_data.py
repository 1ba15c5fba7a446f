#!/usr/bin/env python3
# make_data.py: writes data.csv, 400 rows of two geometric counts (failures before a success)
# from a two-component mixture: p = (0.6, 0.3) or (0.15, 0.5), each with probability 1/2.
# Python's own random module, seeded, so the file is the same on every run.
import random

random.seed(7)
with open("data.csv", "w") as f:
    f.write("tries_a,tries_b\n")
    for _ in range(400):
        p = (0.6, 0.3) if random.random() < 0.5 else (0.15, 0.5)
        row = []
        for pj in p:
            x = 0
            while random.random() > pj:
                x += 1
            row.append(x)
        f.write("%d,%d\n" % tuple(row))
