/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/proto/announcement: which targets ask for the .asx, which
 * Host values may become the URL's authority (hostile ones are refused), and
 * the ASX document, parsed back with GLib's GMarkup so that escaping is
 * checked by a real XML reader.
 */
#include "proto/announcement.h"
#include "proto/response.h"
#include "proto/wmsp-request.h"

#include <glib.h>

#include <cstring>
#include <string>
#include <vector>

namespace announcement = wmstream::proto::announcement;

namespace {

void test_is_announcement() {
    for (const char *target : {"/live.asx", "/a/b.ASX", "/x.Asx?y=1", "/.asx", "/p.asx#f"})
        g_assert_true(announcement::is_announcement(target));
    for (const char *target :
         {"/", "/live.asf", "/live.asx/", "/x?name=a.asx", "asx", "/live.asxx"})
        g_assert_false(announcement::is_announcement(target));
}

void test_authority_accepted() {
    for (const char *host :
         {"example.com", "example.com:8080", "127.0.0.1:1", "localhost:65535", "[::1]",
          "[::1]:8080", "[2001:db8::1]:80", "[::ffff:192.0.2.1]:8080", "my_host.lan"}) {
        const auto authority = announcement::authority_of_host(host);
        g_assert_true(authority.has_value());
        g_assert_cmpstr(authority->c_str(), ==, host);
    }
}

void test_authority_hostile() {
    const std::vector<std::string> hostile = {
        "",
        "evil.com\"/><REF HREF=\"http://attacker/",
        "a<b",
        "a>b",
        "a&amp;b",
        "a'b",
        "user@host",
        "host/path",
        "host:8080/x",
        "host:0",
        "host:65536",
        "host:-1",
        "host:",
        "host:80:80",
        "ho st",
        "host\r\nX-Injected: 1",
        std::string("ho\0st", 5),
        "%68ost",
        "[::1",
        "[::1]x",
        "[]",
        "[::g]",
        "[::1]:0",
        "[v1.x]",
        std::string(254, 'a'),
    };
    for (const std::string &host : hostile)
        g_assert_false(announcement::authority_of_host(host).has_value());
}

void test_authority_of_address() {
    const std::string ipv4 = announcement::authority_of_address("192.0.2.1", 8080);
    g_assert_cmpstr(ipv4.c_str(), ==, "192.0.2.1:8080");
    const std::string ipv6 = announcement::authority_of_address("2001:db8::1", 80);
    g_assert_cmpstr(ipv6.c_str(), ==, "[2001:db8::1]:80");
}

/* What GMarkup reads back: element names in order and every HREF. */
struct Read {
    std::vector<std::string> elements;
    std::vector<std::string> hrefs;
    std::vector<std::string> texts;
};

void on_start(GMarkupParseContext *, const gchar *name, const gchar **attributes,
              const gchar **values, gpointer data, GError **) {
    auto *read = static_cast<Read *>(data);
    read->elements.emplace_back(name);
    for (size_t i = 0; attributes[i]; ++i)
        if (g_str_equal(attributes[i], "HREF"))
            read->hrefs.emplace_back(values[i]);
}

void on_text(GMarkupParseContext *, const gchar *text, gsize len, gpointer data, GError **) {
    g_autofree char *stripped = g_strstrip(g_strndup(text, len));
    if (*stripped)
        static_cast<Read *>(data)->texts.emplace_back(stripped);
}

Read parse_back(const std::string &document) {
    static const GMarkupParser parser = {on_start, nullptr, on_text, nullptr, nullptr};
    Read read;
    GMarkupParseContext *context =
        g_markup_parse_context_new(&parser, G_MARKUP_DEFAULT_FLAGS, &read, nullptr);
    GError *error = nullptr;
    g_assert_true(
        g_markup_parse_context_parse(context, document.data(), gssize(document.size()), &error));
    g_assert_true(g_markup_parse_context_end_parse(context, &error));
    g_assert_no_error(error);
    g_markup_parse_context_free(context);
    return read;
}

void test_document() {
    const std::string document = announcement::document("mmsh://example.com:8080/", "Live");
    /* VLC recognises a video/x-ms-asf body as ASX by its first 12 bytes. */
    g_assert_true(g_ascii_strncasecmp(document.c_str(), "<asx version", 12) == 0);
    const Read read = parse_back(document);
    const std::vector<std::string> elements = {"ASX", "TITLE", "ENTRY", "TITLE", "REF"};
    g_assert_true(read.elements == elements);
    g_assert_cmpuint(read.hrefs.size(), ==, 1);
    g_assert_cmpstr(read.hrefs[0].c_str(), ==, "mmsh://example.com:8080/");
}

/* Even text that no valid Host can carry is escaped, never markup. */
void test_document_escapes() {
    const std::string url = "mmsh://a\"/><REF HREF=\"http://evil/&'/";
    const std::string title = "</TITLE><REF HREF=\"x\"/>";
    const Read read = parse_back(announcement::document(url, title));
    g_assert_cmpuint(read.hrefs.size(), ==, 1);
    g_assert_cmpstr(read.hrefs[0].c_str(), ==, url.c_str());
    g_assert_cmpuint(read.texts.size(), ==, 2);
    g_assert_cmpstr(read.texts[0].c_str(), ==, title.c_str());
}

void test_response_and_classification() {
    const std::string head = wmstream::proto::response::announcement(123);
    g_assert_true(g_str_has_prefix(head.c_str(), "HTTP/1.0 200 OK\r\n"));
    g_assert_nonnull(strstr(head.c_str(), "\r\nContent-Type: video/x-ms-asf\r\n"));
    g_assert_nonnull(strstr(head.c_str(), "\r\nContent-Length: 123\r\n"));
    g_assert_true(g_str_has_suffix(head.c_str(), "\r\nConnection: close\r\n\r\n"));

    namespace wmsp = wmstream::proto::wmsp;
    wmstream::proto::http::Request request;
    request.method = "GET";
    request.path = "/live.asx";
    for (const char *agent : {"NSPlayer/7.10.0.3059", "VLC/3.0.18 LibVLC/3.0.18", ""}) {
        request.headers = {{"User-Agent", agent}};
        g_assert_true(wmsp::classify(request).kind == wmsp::Kind::Announcement);
    }
    request.method = "HEAD";
    g_assert_true(wmsp::classify(request).kind == wmsp::Kind::Announcement);
    g_assert_true(wmsp::classify(request).head);
    request.path = "/live";
    g_assert_true(wmsp::classify(request).kind == wmsp::Kind::HttpHead);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/announcement/is-announcement", test_is_announcement);
    g_test_add_func("/announcement/authority-accepted", test_authority_accepted);
    g_test_add_func("/announcement/authority-hostile", test_authority_hostile);
    g_test_add_func("/announcement/authority-of-address", test_authority_of_address);
    g_test_add_func("/announcement/document", test_document);
    g_test_add_func("/announcement/document-escapes", test_document_escapes);
    g_test_add_func("/announcement/response-and-classification", test_response_and_classification);
    return g_test_run();
}
