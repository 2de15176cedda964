/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS material for the wmnetsink GstCheck tests: a self-signed certificate
 * made with openssl (run with the interop tests' bounded runner).
 */
#pragma once

#include <string>

namespace netsinktest {

/**
 * A self-signed certificate for CN=localhost, IP 127.0.0.1 made with
 * openssl in a private temporary directory (removed at destruction):
 * cert (certificate), both (certificate + key, as tls-certificate-file
 * wants), and other (a second, unrelated certificate: the wrong CA).
 */
struct TlsFiles {
    std::string dir;
    std::string cert;
    std::string key;
    std::string both;
    std::string other;
    std::string other_key;

    TlsFiles();
    ~TlsFiles();
    TlsFiles(const TlsFiles &) = delete;
    TlsFiles &operator=(const TlsFiles &) = delete;

    static std::string read(const std::string &file);
    static void write(const std::string &file, const std::string &contents);

private:
    static void make_certificate(const std::string &cert_file, const std::string &key_file);
};

} // namespace netsinktest
