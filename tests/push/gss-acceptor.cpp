/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GSSAPI acceptor of the test receiver (see gss-acceptor.h): the mechanism
 * is chosen by OID, the credentials are the default acceptor's
 * (GSS_C_NO_NAME), which gss-ntlmssp checks against NTLM_USER_FILE.
 */
#include "gss-acceptor.h"

#include <glib.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include <vector>

namespace pushtest {

namespace {

/* NTLMSSP [MS-NLMP] and SPNEGO [RFC 4178]. */
gss_OID_desc kNtlm = {10, const_cast<char *>("\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a")};
gss_OID_desc kSpnego = {6, const_cast<char *>("\x2b\x06\x01\x05\x05\x02")};

} // namespace

struct GssAcceptor::Handles {
    gss_cred_id_t credential = GSS_C_NO_CREDENTIAL;
    gss_ctx_id_t context = GSS_C_NO_CONTEXT;
    ~Handles() {
        OM_uint32 minor = 0;
        if (context != GSS_C_NO_CONTEXT)
            gss_delete_sec_context(&minor, &context, GSS_C_NO_BUFFER);
        if (credential != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&minor, &credential);
    }
};

GssAcceptor::GssAcceptor(const std::string &scheme) : handles_(std::make_unique<Handles>()) {
    OM_uint32 minor = 0;
    gss_OID_set_desc mechanisms = {1, scheme == "NTLM" ? &kNtlm : &kSpnego};
    if (GSS_ERROR(gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechanisms,
                                   GSS_C_ACCEPT, &handles_->credential, nullptr, nullptr)))
        return; /* step() refuses then */
    if (scheme != "NTLM") {
        gss_OID_set_desc ntlm = {1, &kNtlm};
        gss_set_neg_mechs(&minor, handles_->credential, &ntlm);
    }
}

GssAcceptor::~GssAcceptor() = default;

GssAcceptor::Leg GssAcceptor::step(const std::string &token) {
    Leg leg;
    if (handles_->credential == GSS_C_NO_CREDENTIAL) {
        leg.error = "no acceptor credentials";
        return leg;
    }
    gsize len = 0;
    g_autofree guchar *bytes = g_base64_decode(token.c_str(), &len);
    gss_buffer_desc in = {len, bytes};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    gss_name_t source = GSS_C_NO_NAME;
    OM_uint32 minor = 0;
    const OM_uint32 major = gss_accept_sec_context(&minor, &handles_->context, handles_->credential,
                                                   &in, GSS_C_NO_CHANNEL_BINDINGS, &source, nullptr,
                                                   &out, nullptr, nullptr, nullptr);
    if (out.length > 0) {
        g_autofree char *encoded =
            g_base64_encode(static_cast<const guchar *>(out.value), out.length);
        leg.token = encoded;
    }
    gss_release_buffer(&minor, &out);
    if (GSS_ERROR(major)) {
        leg.error = "GSS major status " + std::to_string(major);
    } else if (major == GSS_S_COMPLETE) {
        leg.state = State::Complete;
        gss_buffer_desc name = GSS_C_EMPTY_BUFFER;
        if (!GSS_ERROR(gss_display_name(&minor, source, &name, nullptr)))
            leg.user.assign(static_cast<const char *>(name.value), name.length);
        gss_release_buffer(&minor, &name);
    } else {
        leg.state = State::Continue;
    }
    if (source != GSS_C_NO_NAME)
        gss_release_name(&minor, &source);
    return leg;
}

} // namespace pushtest
