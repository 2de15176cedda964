/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The announcement file (sans-IO): the ASX playlist Windows Media Encoder
 * wrote for viewers to click ("GenerateAnnouncementFile",
 * IWMEncPushDistribution), which the network sink serves at any path ending
 * in ".asx", naming the stream's URL with the host the viewer used.
 * Sources: "ASX Elements Reference" (Windows Media Metafile, version 3.0:
 * ASX, TITLE, ENTRY, REF HREF), RFC 9110 §7.2 (Host), RFC 3986 §3.2
 * (authority); ../shared/reference/wm-features.md §1.8.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wmstream::proto::announcement {

/** Whether request target @p target asks for the announcement: its path (before any '?' or
 *  '#') ends in ".asx", any case ("/live.asx", "/a/b.ASX?x=1"). */
bool is_announcement(std::string_view target);

/**
 * The authority of a Host header value (uri-host [":" port], RFC 9110 §7.2)
 * when a URL in an XML attribute can carry it as it is: a DNS name or IPv4
 * address (letters, digits, '-', '.', '_'; 1–253 characters) or an IPv6
 * literal in brackets (hex digits, ':', '.'), then optionally ':' and a port
 * 1–65535. nullopt for anything else: empty, user info ('@'), percent
 * escapes, quotes, markup, white space, control bytes, a path.
 */
std::optional<std::string> authority_of_host(std::string_view host);

/** The authority of a local address (text as base/address.h gives it) and port:
 *  "192.0.2.1:8080", "[2001:db8::1]:8080". */
std::string authority_of_address(std::string_view address, uint16_t port);

/**
 * The ASX 3.0 document naming @p url: one ENTRY with one REF (every REF is
 * an entry of its own in VLC's playlist), @p title as the playlist's and the
 * entry's TITLE, both escaped for XML. It starts with `<ASX VERSION="3.0">`,
 * no XML declaration: VLC takes a video/x-ms-asf body for a playlist only
 * when it starts so (modules/demux/playlist/asx.c).
 */
std::string document(std::string_view url, std::string_view title);

} // namespace wmstream::proto::announcement
