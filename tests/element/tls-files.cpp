/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tls-files.h"

#include "interop.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <vector>

namespace netsinktest {

namespace {

/** Longest run of openssl, s. */
constexpr guint kOpensslLimitS = 30;

} // namespace

TlsFiles::TlsFiles() {
    g_autoptr(GError) error = nullptr;
    g_autofree gchar *made = g_dir_make_tmp("wmnetsink-tls-XXXXXX", &error);
    fail_unless(made != nullptr, "%s", error ? error->message : "");
    dir = made;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    both = dir + "/cert-and-key.pem";
    other = dir + "/other.pem";
    other_key = dir + "/other-key.pem";
    make_certificate(cert, key);
    make_certificate(other, other_key);
    write(both, read(cert) + read(key));
}

TlsFiles::~TlsFiles() {
    for (const std::string &file : {cert, key, both, other, other_key})
        g_remove(file.c_str());
    g_rmdir(dir.c_str());
}

std::string TlsFiles::read(const std::string &file) {
    g_autofree gchar *contents = nullptr;
    gsize size = 0;
    fail_unless(g_file_get_contents(file.c_str(), &contents, &size, nullptr), "%s", file.c_str());
    return std::string(contents, size);
}

void TlsFiles::write(const std::string &file, const std::string &contents) {
    fail_unless(
        g_file_set_contents(file.c_str(), contents.c_str(), gssize(contents.size()), nullptr), "%s",
        file.c_str());
}

void TlsFiles::make_certificate(const std::string &cert_file, const std::string &key_file) {
    const std::vector<std::string> argv = {
        "openssl",  "req",           "-x509",   "-newkey",
        "rsa:2048", "-nodes",        "-keyout", key_file,
        "-out",     cert_file,       "-days",   "2",
        "-subj",    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"};
    const interop::Run result = interop::run(argv, kOpensslLimitS);
    fail_unless(result.exited && result.status == 0, "%s", interop::describe(argv, result).c_str());
}

} // namespace netsinktest
