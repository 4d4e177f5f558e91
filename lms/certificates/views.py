"""Course certificates: the holder's PDF, and the public page where anyone checks a code."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.content.pdf import PdfUnavailable, render_pdf
from lms.i18n import current_locale
from lms.permissions import public, signed_in
from lms.services import certificates

bp = Blueprint("certificates", __name__)


@bp.get("/certificates")
@public
def lookup() -> Response | str | tuple[str, int]:
    """A form to type a code in; a code that can be one redirects to its page."""
    typed = request.args.get("code", "").strip()[:40]
    if not typed:
        return render_template("certificates/verify.html", certificate=None, code="")
    code = certificates.normalise_code(typed)
    if code is None:
        return render_template("certificates/verify.html", certificate=None, code=typed), 404
    return redirect(url_for("certificates.verify", code=certificates.format_code(code)))


@bp.get("/certificates/<code>")
@public
def verify(code: str) -> tuple[str, int]:
    """Who earned the certificate and when: nothing else about the person is shown."""
    certificate = certificates.find_certificate(code)
    status = 200 if certificate is not None else 404
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        code=code,
        format_code=certificates.format_code,
    ), status


@bp.get("/me/certificate.pdf")
@signed_in
def download() -> Response:
    certificate = certificates.certificate_of(current_user)
    if certificate is None:
        abort(404)
    verify_url = url_for("certificates.verify", code=certificates.format_code(certificate.code),
                         _external=True)  # fmt: skip
    html = render_template(
        "certificates/certificate_pdf.html",
        certificate=certificate,
        code=certificates.format_code(certificate.code),
        verify_url=verify_url,
        locale=current_locale(),
    )
    try:
        pdf = render_pdf(html)
    except PdfUnavailable as error:
        current_app.logger.error("certificate PDF cannot be made: %s", error)
        message = _(
            "The PDF cannot be made right now. Your certificate and its code are safe; try again later."
        )
        return Response(render_template("errors/error.html", code=503, message=message), status=503)
    return send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificate-{certificate.code}.pdf",
    )
