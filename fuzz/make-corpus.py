#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus fuzz/corpus/<target>/ from the fixtures in tests/data/.

    fuzz/make-corpus.py        (re)writes every seed; the output is deterministic

The other files there (named by their SHA-1) are what deep fuzzing campaigns
found that reaches new code, merged in with -merge=1 (docs/security.md); this
script leaves them alone.

http-request:  the captured FFmpeg/VLC/curl requests, unchanged, and the curl
               one with the credentials curl -u viewer:pw sends (Basic, and
               Digest answering the nonce fuzz-http-request.cpp's server issues).
asf:           asfmux and FFmpeg output cut to the header and two packets, and
               single packets holding a key-frame start (fuzz-asf.cpp reads a
               bare packet with its fallback header).
asf-filter:    single asfmux and FFmpeg packets (audio + video, key frames and
               fragments) behind a selection byte: video, audio, both, video
               thinned to key frames (the layout is in fuzz-asf-filter.cpp).
framing:       FFmpeg's asf_stream output cut to $H, three $D and the $E, in pull
               framing and converted to push framing, fed whole and in pieces
               (the input layout is described in fuzz-framing.cpp).
push-response: push server answers written from [MS-WMHTTP] §4.8 and the
               peercast-yt notes (docs/security.md lists them).
framing-writers: none written here; the campaigns' corpus only.
pull-session:  answers of wmnetsink (Describe, then Play with $H, $D… and $E) and
               of VLC's mmsh output around the asfmux and FFmpeg fixtures' streams,
               a redirect, a $C with a new header, padding removed (the layout is in
               fuzz-pull-session.cpp).
connection:    scripts (the layout is described in fuzz-connection.cpp) in which
               the captured requests are sent to a connection and the stream
               flows: Play, Describe, plain GET, before and after the first
               header, with viewer credentials and the application asked, over
               TLS, and with a peer that stops reading or leaves.
"""
import base64
import hashlib
import hmac
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "fuzz" / "corpus"

PULL_MMS_HEADER = 8  # LocationId, Incarnation, AFFlags, PacketSize


def frames(data):
    """Splits a framed stream into (packet id, body) pairs."""
    out = []
    pos = 0
    while pos + 4 <= len(data):
        length = struct.unpack_from("<H", data, pos + 2)[0]
        out.append((data[pos + 1 : pos + 2], data[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    return out


def frame(packet_id, body):
    return b"$" + packet_id + struct.pack("<H", len(body)) + body


def asfmux(name):
    """Header bytes and data packets of an asfmux file (sizes from the fixture notes)."""
    data = (DATA / name).read_bytes()
    header_size = {"asfmux-wmv2.asf": 451, "asfmux-wmv2-wmav2.asf": 645,
                   "asfmux-mbr.asf": 1087}[name]
    packet_size = 4800
    body = data[header_size:]
    return data[:header_size], [
        body[i : i + packet_size] for i in range(0, len(body), packet_size)
    ]


def ffmpeg_asfs():
    """Header bytes and data packets of the FFmpeg asf_stream fixture (pull framed)."""
    parts = frames((DATA / "ffmpeg-wmv2-wmav2.asfs").read_bytes())
    header = b"".join(body[PULL_MMS_HEADER:] for kind, body in parts if kind == b"H")
    packets = [body[PULL_MMS_HEADER:] for kind, body in parts if kind == b"D"]
    return header, packets


def write(target, name, data):
    (CORPUS / target / name).write_bytes(data)


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def http_request():
    for path in sorted((DATA / "requests").glob("*.http")):
        write("http-request", path.name, path.read_bytes())
    # fuzz-http-request.cpp: realm "wmstream", user "viewer", password "pw",
    # secret "fuzzing-secret", clock at 1000 s. lib/server/access.cpp's nonce is the
    # 16-hex-digit issue time, then HMAC-SHA256(secret, time) cut to 32 digits.
    curl = (DATA / "requests" / "curl-get.http").read_bytes().decode()
    head = curl[: -len("\r\n")]
    basic = base64.b64encode(b"viewer:pw").decode()
    write("http-request", "curl-basic.http",
          (head + f"Authorization: Basic {basic}\r\n\r\n").encode())
    stamp = f"{1000 * 1000000:016x}"
    nonce = stamp + hmac.new(b"fuzzing-secret", stamp.encode(), hashlib.sha256).hexdigest()[:32]
    cnonce, nc = "MTIzNDU2Nzg5MA==", "00000001"
    response = md5(":".join([md5("viewer:wmstream:pw"), nonce, nc, cnonce, "auth",
                             md5("GET:/live")]))
    digest = (f'Digest username="viewer", realm="wmstream", nonce="{nonce}", uri="/live", '
              f'cnonce="{cnonce}", nc={nc}, qop=auth, response="{response}", algorithm=MD5')
    write("http-request", "curl-digest.http",
          (head + f"Authorization: {digest}\r\n\r\n").encode())


def asf():
    for name, stem in (("asfmux-wmv2.asf", "asfmux-wmv2"),
                       ("asfmux-wmv2-wmav2.asf", "asfmux-wmv2-wmav2"),
                       ("asfmux-mbr.asf", "asfmux-mbr")):
        header, packets = asfmux(name)
        write("asf", stem + "-head", header + packets[0] + packets[1])
    header, packets = ffmpeg_asfs()
    write("asf", "ffmpeg-wmv2-wmav2-head", header + packets[0] + packets[1])
    # Key frames begin in these packets (tests/data/README.md); some behind delta frames.
    _, packets = asfmux("asfmux-wmv2.asf")
    write("asf", "asfmux-wmv2-packet7", packets[7])
    _, packets = asfmux("asfmux-wmv2-wmav2.asf")
    write("asf", "asfmux-wmv2-wmav2-packet3", packets[3])
    write("asf", "asfmux-wmv2-wmav2-packet6", packets[6])
    _, packets = ffmpeg_asfs()
    write("asf", "ffmpeg-wmv2-wmav2-packet6", packets[6])


def asf_filter():
    selections = {"video": 0x01, "audio": 0x02, "all": 0x03, "video-key": 0x07}
    sources = (("asfmux-wmv2-wmav2", asfmux("asfmux-wmv2-wmav2.asf")[1]),
               ("ffmpeg-wmv2-wmav2", ffmpeg_asfs()[1]))
    for stem, packets in sources:
        for index in (1, 3, 6):
            for name, bits in selections.items():
                write("asf-filter", f"{stem}-packet{index}-{name}",
                      bytes([bits]) + packets[index])


def framing():
    parts = frames((DATA / "ffmpeg-asf-stream.framed").read_bytes())
    cut = parts[:4] + parts[-1:]  # $H, three $D, $E
    pull = b"".join(frame(kind, body) for kind, body in cut)
    push = b"".join(
        frame(kind, body[PULL_MMS_HEADER:] if kind in (b"H", b"D") else body)
        for kind, body in cut
    )

    def seed(mode, sizes, stream):
        return bytes([mode, len(sizes)]) + b"".join(struct.pack("<H", s) for s in sizes) + stream

    write("framing", "pull-whole", seed(0, [], pull))
    write("framing", "pull-pieces", seed(0, [1, 7, 300], pull))
    write("framing", "push-whole", seed(1, [], push))
    write("framing", "push-pieces", seed(1, [5, 0, 1000], push))


def head(status_line, *fields):
    return ("\r\n".join((status_line,) + fields) + "\r\n\r\n").encode()


def push_response():
    wms_204 = head(
        "HTTP/1.1 204 No Content",
        "Server: Cougar/9.5.5732.6324",
        "Content-Length: 0",
        "Date: Mon, 06 Jan 2025 10:00:00 GMT",
        "Pragma: no-cache, timeout=60000",
        "Cache-Control: no-cache",
        "Set-Cookie: push-id=4124758405",
        "Supported: com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, "
        "com.microsoft.wm.predstrm, com.microsoft.wm.fastcache, "
        "com.microsoft.wm.startupprofile",
    )
    peercast_204 = head(
        "HTTP/1.1 204 No Content",
        "Server: Cougar/9.01.01.3814",
        "Cache-Control: no-cache",
        "Supported: com.microsoft.wm.srvppair, com.microsoft.wm.sswitch",
        "Content-Length: 0",
        "Connection: Keep-Alive",
    )
    write("push-response", "wms-setup-start", wms_204 + wms_204)
    write("push-response", "peercast-setup", peercast_204)
    # Repeated cookie attributes: libsoup 3.2's cookie parser leaks them (a fuzzer finding).
    write("push-response", "cookie-attributes", head(
        "HTTP/1.1 204 No Content",
        "Server: Cougar/9.01.01.3814",
        "Set-Cookie: push-id=77; Path=/; Domain=example; Path=/pub; Domain=other; HttpOnly",
        "Content-Length: 0",
    ))
    write("push-response", "digest-401", head(
        "HTTP/1.1 401 Unauthorized",
        "Server: Cougar/9.01.01.3814",
        'WWW-Authenticate: Digest realm="WMS", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c0", '
        'qop="auth", algorithm=MD5',
        "WWW-Authenticate: Basic realm=\"WMS\"",
        "Content-Length: 0",
    ) + head(
        "HTTP/1.1 401 Unauthorized",
        "Server: Cougar/9.01.01.3814",
        'WWW-Authenticate: Digest realm="WMS", nonce="0e8b11d0f600bfb0c0dcd98b7102dd2f", '
        'qop="auth", stale=true',
    ) + wms_204)
    write("push-response", "basic-401", head(
        "HTTP/1.0 401 Unauthorized",
        "Server: Rex/9.0.0.2980",
        'WWW-Authenticate: Basic realm="pubpoint"',
        "Connection: keep-alive",
    ) + peercast_204)
    write("push-response", "redirects", head(
        "HTTP/1.1 302 Found",
        "Server: Cougar/9.01.01.3814",
        "Location: http://[::1]:8081/other?x=1",
        "Content-Length: 0",
    ) + head(
        "HTTP/1.1 305 Use Proxy",
        "Location: http://proxy.example:3128/",
    ) + head(
        "HTTP/1.1 307 Temporary Redirect",
        "Location: ../relative/pubpoint",
    ) + wms_204)
    write("push-response", "interim-and-refusals", head(
        "HTTP/1.1 100 Continue",
    ) + wms_204 + head(
        "HTTP/1.1 404 Not Found",
        "Server: Cougar/9.01.01.3814",
        "Content-Length: 0",
    ) + head(
        "HTTP/1.1 503 Service Unavailable",
        "Retry-After: 5",
        "Connection: close",
    ))
    write("push-response", "plain-web-server", head(
        "HTTP/1.1 200 OK",
        "Server: Apache/2.4.57 (Debian)",
        "Content-Type: text/html",
        "Content-Length: 45",
        "Set-Cookie: push-id=1; Path=/; HttpOnly",
    ))


# fuzz-connection.cpp's opcodes and flags.
SEND, EOF, READ_ERROR, ROOM, WRITE_ERROR, TICK, HEADER, PACKETS, STREAM, ANSWER, ROUND, \
    HANDSHAKE, ABORT = range(13)
ASK, CREDENTIALS, FULL, TLS, HAS_HEADER, NO_TIMEOUT = (1 << bit for bit in range(6))


def send(data):
    """Send events for @data, in pieces of at most 255 bytes."""
    out = b""
    for pos in range(0, len(data), 255):
        piece = data[pos : pos + 255]
        out += bytes([SEND, len(piece)]) + piece
    return out


def script(flags, *events):
    return bytes([flags]) + b"".join(events)


def connection():
    requests = {path.stem: path.read_bytes() for path in (DATA / "requests").glob("*.http")}
    room = bytes([ROOM, 255]) * 4
    stream = bytes([PACKETS, 7]) + room + bytes([PACKETS, 7, ROUND, 0]) + room
    for name in ("ffmpeg-play", "vlc-play", "curl-get", "ffmpeg-describe", "vlc-describe"):
        write("connection", name, script(HAS_HEADER, send(requests[name]), room, stream,
                                         bytes([TICK, 5, EOF])))
    write("connection", "play-before-header", script(
        0, send(requests["vlc-play"]), bytes([TICK, 10, HEADER, 1]), room, stream,
        bytes([HEADER, 0]), room, bytes([STREAM, 0]), room, bytes([EOF])))
    basic = requests["curl-get"][: -len(b"\r\n")] + (
        b"Authorization: Basic " + base64.b64encode(b"viewer:pw") + b"\r\n\r\n")
    write("connection", "credentials-asked", script(
        HAS_HEADER | CREDENTIALS | ASK, send(basic), bytes([ANSWER, 1]), room, stream,
        bytes([ABORT])))
    write("connection", "tls-over-limit", script(
        HAS_HEADER | TLS | FULL, bytes([HANDSHAKE, 1]), send(requests["ffmpeg-play"]), room,
        bytes([EOF])))
    write("connection", "stalled-reader", script(
        HAS_HEADER, send(requests["ffmpeg-play"]), bytes([ROOM, 20]), stream[:2],
        bytes([TICK, 129, TICK, 130, WRITE_ERROR, 1])))
    write("connection", "slow-request", script(
        HAS_HEADER, send(requests["vlc-play"][:100]), bytes([TICK, 200, READ_ERROR, 0])))


def pull_data(packet, location):
    body = struct.pack("<IBBH", location, 0, location & 0xFF, len(packet) + PULL_MMS_HEADER)
    return frame(b"D", body + packet)


def pull_headers(header):
    return frame(b"H", struct.pack("<IBBH", 0, 0, 0x0C, len(header) + PULL_MMS_HEADER) + header)


def pull_session():
    wmnetsink = ("HTTP/1.0 200 OK", "Server: Rex/9.0.0.2980", "Cache-Control: no-cache",
                 "Pragma: no-cache", "Pragma: client-id=1543854732",
                 'Pragma: features="broadcast"')
    vlc = ("HTTP/1.0 200 OK", "Content-type: application/octet-stream",
           "Server: Cougar 4.1.0.3921", "Cache-Control: no-cache", 'Pragma: features="broadcast"',
           "Connection: close")
    end = frame(b"E", struct.pack("<I", 0))

    def seed(describe, play):
        return struct.pack("<H", len(describe)) + describe + play

    for stem, (header, packets) in (("asfmux", asfmux("asfmux-wmv2-wmav2.asf")),
                                    ("ffmpeg", ffmpeg_asfs())):
        data = b"".join(pull_data(p, i) for i, p in enumerate(packets[:4]))
        write("pull-session", f"wmnetsink-{stem}", seed(
            head(*wmnetsink, "Content-Type: application/vnd.ms.wms-hdr.asfv1",
                 f"Content-Length: {len(header) + 12}") + pull_headers(header),
            head(*wmnetsink, "Content-Type: application/x-mms-framed") + pull_headers(header)
            + data + end))
        write("pull-session", f"vlc-{stem}", seed(
            head(*vlc) + pull_headers(header),
            head(*vlc) + pull_headers(header) + data))
    header, packets = asfmux("asfmux-wmv2.asf")
    stripped = b"".join(pull_data(p.rstrip(b"\0"), i) for i, p in enumerate(packets[6:9]))
    change = frame(b"E", struct.pack("<I", 1)) + frame(b"C", struct.pack("<I", 0))
    write("pull-session", "redirect-change-stripped", seed(
        head("HTTP/1.1 302 Found", "Location: /edge?x=1", "Content-Length: 0"),
        head(*wmnetsink) + pull_headers(header) + stripped + change + pull_headers(header)
        + stripped + end))


def main():
    generators = {
        "http-request": http_request,
        "asf": asf,
        "asf-filter": asf_filter,
        "framing": framing,
        "push-response": push_response,
        "framing-writers": lambda: None,
        "connection": connection,
        "pull-session": pull_session,
    }
    for target, generate in generators.items():
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
        generate()


if __name__ == "__main__":
    main()
