"""The guided lesson's pages (NN-name.md) and the trained network it shows (digits.npz).
Read by app/model/lesson.py; shipped in the wheel as package data."""
