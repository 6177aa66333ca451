"""Runs kept on disk, as TensorBoard keeps them: one folder per run with run.json, metrics.jsonl
and checkpoints, written by the CLI and the studio alike and read without ever raising.

    runfile   run.json: what a run is and where it stands
    metrics   metrics.jsonl: append-only measurements, read line by bounded line
    lock      whether a run's recording process still runs
    store     a folder of runs: list, new folder, rename, delete
    recorder  recording a run while it trains (checkpoints included)
    opening   opening a recorded run to show or continue it
    export    metrics as CSV
    board     TensorBoard's event files of a run, written as it trains (events: their encoding)
    moments   the weights at chosen steps, kept as the run trains (time travel)
    specs     RUN_FOLDER@STEP (@first, @last, @best, @epochN): a moment named as a weights file
    cli       cnn-runs: list, show, csv
"""
