"""A response's body, whether the view answered at once or streamed it (the recall's
CSV, a file): reading a streamed body runs the rest of the view (its queries, its
access-log rows), as sending it to a browser would."""


def read(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def body(response) -> str:
    return read(response).decode()
