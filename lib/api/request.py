"""Build the body of a chat completion request for a given model."""

from __future__ import annotations

from typing import Any

from lib.api.models import model_info
from lib.images.image import Image

_FIXED = frozenset({"model", "messages", "stream", "stream_options"})


def api_messages(
    system_prompt: str,
    history: list[dict[str, Any]],
    model: str,
    instruction_role: str = "system",
    *,
    images: bool = True,
) -> list[dict[str, Any]]:
    """The message list: instructions first, then the turns.

    A model whose spec allows only ``user`` and ``assistant`` (Gemma 3 4B, 12B, 3n) gets
    the system prompt folded into the first user message instead, which is also what
    Gemma's own chat template does with a system turn.
    """
    messages = [_on_the_wire(m, images) for m in history]
    prompt = system_prompt.strip()
    if not prompt:
        return messages
    info = model_info(model)
    if instruction_role in info.instruction_roles:
        return [{"role": instruction_role, "content": prompt}, *messages]
    if info.takes_system_role:
        return [{"role": "system", "content": prompt}, *messages]
    for message in messages:
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, list):
                message["content"] = [{"type": "text", "text": prompt}, *content]
            else:
                message["content"] = f"{prompt}\n\n{content}"
            break
    return messages


#: what a model that reads no images is sent in place of an image earlier in the conversation
LEFT_OUT = "[An image was attached here. This model reads no images, so it was left out.]"


def _on_the_wire(message: dict[str, Any], with_images: bool = True) -> dict[str, Any]:
    """A history entry as the API takes it: a message with images becomes text and ``image_url`` parts.

    For a model that reads no images (the chat switched to one after images were sent), each
    image is a line saying it was left out: one ``image_url`` part would fail the whole request.
    """
    images: tuple[Image, ...] = message.get("images") or ()
    wire = {k: v for k, v in message.items() if k != "images"}
    if images and not with_images:
        wire["content"] = "\n\n".join(filter(None, [wire["content"], *[LEFT_OUT] * len(images)]))
    elif images:
        text = [{"type": "text", "text": wire["content"]}] if wire["content"] else []
        wire["content"] = [*text, *({"type": "image_url", "image_url": {"url": i.data_uri()}} for i in images)]
    return wire


def build_body(
    model: str,
    messages: list[dict[str, str]],
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body: streamed, with usage asked for, and only the parameters the model has."""
    info = model_info(model)
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for name, value in (params or {}).items():
        # Parameters never override what makes this a streamed request with usage.
        if name in _FIXED:
            continue
        if value is not None and name in info.params:
            body[name] = value
    return body
