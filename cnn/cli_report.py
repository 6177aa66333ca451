"""What every cnn-train run ends with: each test image's prediction (unless --quiet; of a test set of
more than EVERY_PREDICTION images, each misclassified one's), the confusion matrix with each class's
accuracy, the test accuracy, and the trained weights saved (to the temp folder, said in one line, when
--save's path fails); and the one line a failure prints."""
from __future__ import annotations

import sys

from . import atomic, weights_file
from .evaluation import accuracy_text, confusion_matrix, evaluate, format_confusion
from .session import Session

EVERY_PREDICTION = 1000   # a larger test set prints its misclassified images only (10,000 lines flooded the terminal)


def report(args, session: Session) -> int:
    """The predictions, the confusion matrix with each class's accuracy, the test accuracy and the
    saved weights, as every run ends."""
    result = evaluate(session.network, session.dataset.test, session.loss)
    if not args.quiet:
        predicted = [session.config.classes[p] for p in result.predictions]
        labels = session.dataset.test.labels
        if len(labels) <= EVERY_PREDICTION:
            for guess, true in zip(predicted, labels, strict=True):
                print(f"pred: {guess}, true: {true}")
        else:
            wrong = [i for i, (guess, true) in enumerate(zip(predicted, labels, strict=True)) if guess != true]
            print(f"the {len(wrong):,} of the {len(labels):,} test images misclassified:")
            for i in wrong:
                print(f"pred: {predicted[i]}, true: {labels[i]} (test image #{i})")
    matrix = confusion_matrix(session.dataset.test.y.argmax(axis=1), result.predictions, len(session.config.classes))
    print(format_confusion(matrix, session.config.classes))
    print(f"test accuracy: {accuracy_text(result.accuracy)}")
    return _save(session, args.save) if args.save is not None else 0


def _save(session: Session, path: str) -> int:
    """Saves the trained weights; if `path` fails, they go to the temp folder and one line says where."""
    try:
        rescued = weights_file.save_or_rescue(session.network, path)
    except atomic.WriteInterrupted as interrupted:
        return fail(str(interrupted), 130)
    except KeyboardInterrupt:
        return fail(f"interrupted; the weights were saved to {path}", 130)
    except atomic.WriteError as error:
        return fail(f"error: could not save the weights: {error}", 1)
    if rescued is not None:
        return fail(str(rescued), 1)
    print(f"saved weights to {path}")
    return 0


def fail(message: str, code: int) -> int:
    """Says `message` in one line on stderr, and returns the exit code."""
    print(f"cnn-train: {message}", file=sys.stderr)
    return code
