"""With ``init_typed = True`` the pydantic plugin types constructor arguments as declared, so
a string for an int field is an error even though pydantic would coerce it at run time."""

from sqs_contracts import Task


class SendEmail(Task, queue="typing-emails", name="send_email"):
    user_id: int
    subject: str


SendEmail(user_id="1", subject="Hi")  # expected: arg-type
