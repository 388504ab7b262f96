"""Reference solutions and grading tests for the nngrade assignments.

The solution modules (``perceptron``, ...) are plain numpy functions that the
grading tests compare students' answers with. The grading tests themselves live
in :mod:`reference.grading`, one module per assignment. Nothing in this package
is ever visible to a student's kernel: the grader runs it in its own process.
"""
