"""The catalogue of hostile and broken inputs (issue 14): each case a real file, each test a real run.

One module per kind of damage (`test_text_files.py`, `test_names.py`, …); a new hostile case goes
into the module of its kind, or a new one. Files are built by the tests themselves (openpyxl,
raw bytes), never checked in, so a case reads as the file it is.
"""
