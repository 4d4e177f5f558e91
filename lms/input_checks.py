"""What every request must be like before a view reads it."""

from __future__ import annotations

from itertools import chain

from flask import abort, request

NUL = "\x00"


def refuse_nul_characters() -> None:
    """``before_request``: a NUL character (U+0000) in the address, a header, the query string
    or a form field is a 400.

    Nobody types one (HTTP forbids it in headers), and PostgreSQL cannot hold one in text: a
    view that saved or looked up such a value (a goal's title, a filter, the browser's name
    kept with a session) would fail in the database, a 500, instead of saying what is wrong.
    Uploaded files are not form fields; the views that read them check them.
    """
    fields = chain(
        request.headers.items(), request.args.items(multi=True), request.form.items(multi=True)
    )
    if NUL in request.path or any(NUL in name or NUL in value for name, value in fields):
        abort(400, description="The request contains a NUL character.")
