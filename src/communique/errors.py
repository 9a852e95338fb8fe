"""Errors users can cause or meet, each carrying the HTTP status the API answers with.

    CommuniqueError (500)
    ├── BadInput (400)
    │   ├── PayloadTooLarge (413)
    │   └── Unprocessable (422)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    └── BackendUnavailable (503)

The CLI prints the message and exits non-zero; the API renders `{"error": {"code", "message", "type", "param"}}`,
the OpenAI protocol's shape; `param` names the request field at fault, where one is.
Third-party exceptions are wrapped at the boundary with `raise ... from exc`.
"""


class CommuniqueError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str = "", param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class BadInput(CommuniqueError):
    status = 400
    code = "bad_input"


class PayloadTooLarge(BadInput):
    status = 413
    code = "payload_too_large"


class Unprocessable(BadInput):
    status = 422
    code = "unprocessable"


class Unauthorized(CommuniqueError):
    status = 401
    code = "unauthorized"


class Forbidden(CommuniqueError):
    status = 403
    code = "forbidden"


class NotFound(CommuniqueError):
    status = 404
    code = "not_found"


class BackendUnavailable(CommuniqueError):
    status = 503
    code = "backend_unavailable"
