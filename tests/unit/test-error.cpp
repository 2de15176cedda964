/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the error model (lib/base/error.h): documented names and HRESULTs. */
#include "base/error.h"

#include <glib.h>

#include <cstring>

using namespace wmstream;

namespace {

void test_conditions() {
    struct Row {
        Errc code;
        const char *name;
        uint32_t hresult;
    };
    /* Values from nserror.h / winerror.h / asferr.h as listed in the reference notes §5. */
    const Row rows[] = {
        {Errc::InvalidArgument, "E_INVALIDARG", 0x80070057u},
        {Errc::InvalidRequest, "NS_E_INVALID_REQUEST", 0xC00D002Bu},
        {Errc::PortInUse, "NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028u},
        {Errc::NetworkFailure, "NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028u},
        {Errc::AccessDenied, "E_ACCESSDENIED", 0x80070005u},
        {Errc::InvalidData, "NS_E_INVALID_DATA", 0xC00D002Fu},
        {Errc::InvalidName, "NS_E_INVALID_NAME", 0xC00D001Cu},
        {Errc::ConnectionFailure, "NS_E_CONNECTION_FAILURE", 0xC00D0029u},
        {Errc::NoConnection, "NS_E_NOCONNECTION", 0xC00D0005u},
        {Errc::InvalidClient, "NS_E_INVALID_CLIENT", 0xC00D003Fu},
        {Errc::BufferTooSmall, "ASF_E_BUFFERTOOSMALL", 0xC00D07D1u},
        {Errc::Failed, "E_FAIL", 0x80004005u},
    };
    for (const Row &row : rows) {
        const Condition c = condition(row.code);
        g_assert_cmpstr(c.name, ==, row.name);
        g_assert_cmphex(c.hresult, ==, row.hresult);
        g_assert_cmpuint(std::strlen(to_string(row.code)), >, 0);
    }
}

void test_result_and_status() {
    Result<int> good(42);
    g_assert_true(bool(good));
    g_assert_cmpint(*good, ==, 42);
    Result<int> bad(make_error(Errc::PortInUse, "busy"));
    g_assert_false(bool(bad));
    g_assert_true(bad.error().code == Errc::PortInUse);
    g_assert_cmpstr(bad.error().message.c_str(), ==, "busy");

    Status ok;
    g_assert_true(ok.ok());
    Status failed(make_error(Errc::InvalidData, "corrupt"));
    g_assert_false(failed.ok());
    g_assert_true(failed.error().code == Errc::InvalidData);
}

} // namespace

int main(int argc, char **argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/error/conditions", test_conditions);
    g_test_add_func("/error/result-and-status", test_result_and_status);
    return g_test_run();
}
