"""Decode the few protobuf bodies kubectl sends for built-ins (``kubectl create namespace|configmap|secret``).

kubectl's typed generators POST ``application/vnd.kubernetes.protobuf`` and do not
fall back to JSON. The envelope is ``k8s\\0`` + ``runtime.Unknown``; only the
fields those commands set are read (ObjectMeta name/generateName/namespace/
labels/annotations, ConfigMap and Secret data).
"""

import base64
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """A body this decoder does not understand."""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def fields(data: bytes) -> list[tuple[int, Any]]:
    """Return the (field number, value) pairs of a protobuf message; length-delimited values as bytes."""
    result, position = [], 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            value, position = data[position:position + length], position + length
        elif wire == 1:
            value, position = data[position:position + 8], position + 8
        elif wire == 5:
            value, position = data[position:position + 4], position + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        result.append((number, value))
    return result


def _map(entries: list[bytes], binary: bool = False) -> dict[str, Any]:
    result = {}
    for entry in entries:
        parts = dict(fields(entry))
        value = parts.get(2, b"")
        result[parts.get(1, b"").decode()] = base64.b64encode(value).decode() if binary else value.decode()
    return result


def _object_meta(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    labels, annotations = [], []
    for number, value in fields(data):
        if number in (1, 2, 3) and not value:
            continue  # proto3 writes empty strings; JSON omits them
        if number == 1:
            meta["name"] = value.decode()
        elif number == 2:
            meta["generateName"] = value.decode()
        elif number == 3:
            meta["namespace"] = value.decode()
        elif number == 11:
            labels.append(value)
        elif number == 12:
            annotations.append(value)
    if labels:
        meta["labels"] = _map(labels)
    if annotations:
        meta["annotations"] = _map(annotations)
    return meta


def decode(body: bytes) -> dict[str, Any]:
    """Return the JSON form of a Namespace, ConfigMap or Secret sent as Kubernetes protobuf."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf body")
    envelope = dict(fields(body[len(MAGIC):]))
    type_meta = dict(fields(envelope.get(1, b"")))
    api_version, kind = type_meta.get(1, b"").decode(), type_meta.get(2, b"").decode()
    parts = fields(envelope.get(2, b""))
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if kind not in ("Namespace", "ConfigMap", "Secret"):
        raise ProtobufError(f"protobuf bodies of kind {kind} are not understood here; send JSON")
    for number, value in parts:
        if number == 1:
            obj["metadata"] = _object_meta(value)
    if kind == "ConfigMap":
        data = [value for number, value in parts if number == 2]
        binary = [value for number, value in parts if number == 3]
        if data:
            obj["data"] = _map(data)
        if binary:
            obj["binaryData"] = _map(binary, binary=True)
    if kind == "Secret":
        data = [value for number, value in parts if number == 2]
        if data:
            obj["data"] = _map(data, binary=True)
        for number, value in parts:
            if number == 3 and value:
                obj["type"] = value.decode()
    return obj


def _length_delimited(number: int, payload: bytes) -> bytes:
    key, length, encoded = (number << 3) | 2, len(payload), b""
    for value in (key, length):
        while True:
            byte = value & 0x7F
            value >>= 7
            encoded += bytes([byte | (0x80 if value else 0)])
            if not value:
                break
    return encoded + payload


def empty_openapi_v2(version: str) -> bytes:
    """Return an OpenAPI v2 document with no paths, as the gnostic protobuf kubectl asks ``/openapi/v2`` for.

    kubectl falls back to it for kinds without an OpenAPI v3 document (e.g. a CRD
    that is not installed); finding no schema it skips client-side validation and
    then reports the missing kind as a real cluster does.
    """
    info = _length_delimited(1, b"Kubernetes") + _length_delimited(2, version.encode())
    return _length_delimited(1, b"2.0") + _length_delimited(2, info) + _length_delimited(8, b"")
