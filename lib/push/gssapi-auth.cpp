/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GSSAPI initiator for NTLM and Negotiate (see gssapi-auth.h): MIT krb5's
 * mechglue with the gss-ntlmssp mechanism (/etc/gss/mech.d/mech.ntlmssp.conf).
 */
#include "push/gssapi-auth.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

namespace wmstream::push {

namespace {

/* 1.3.6.1.4.1.311.2.2.10 (NTLMSSP, MS-NLMP §1.9) and 1.3.6.1.5.5.2 (SPNEGO, RFC 4178). */
gss_OID_desc kNtlmOid = {10, const_cast<char *>("\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a")};
gss_OID_desc kSpnegoOid = {6, const_cast<char *>("\x2b\x06\x01\x05\x05\x02")};

/* The text of one kind of status code (gss_display_status). */
std::string status_text(OM_uint32 code, int type, gss_OID mechanism) {
    std::string text;
    OM_uint32 context = 0;
    do {
        OM_uint32 minor = 0;
        gss_buffer_desc buffer = GSS_C_EMPTY_BUFFER;
        if (GSS_ERROR(gss_display_status(&minor, code, type, mechanism, &context, &buffer)))
            break;
        if (!text.empty())
            text += "; ";
        text.append(static_cast<const char *>(buffer.value), buffer.length);
        gss_release_buffer(&minor, &buffer);
    } while (context != 0);
    return text;
}

Error gss_error(const std::string &what, OM_uint32 major, OM_uint32 minor, gss_OID mechanism) {
    std::string text = what + ": " + status_text(major, GSS_C_GSS_CODE, GSS_C_NO_OID);
    if (minor != 0)
        text += " (" + status_text(minor, GSS_C_MECH_CODE, mechanism) + ")";
    return make_error(Errc::AccessDenied, text);
}

gss_buffer_desc buffer_of(const std::string &text) {
    return {text.size(), const_cast<char *>(text.data())};
}

} // namespace

struct GssContext::Handles {
    gss_cred_id_t credential = GSS_C_NO_CREDENTIAL;
    gss_name_t target = GSS_C_NO_NAME;
    gss_ctx_id_t context = GSS_C_NO_CONTEXT;

    ~Handles() {
        OM_uint32 minor = 0;
        if (context != GSS_C_NO_CONTEXT)
            gss_delete_sec_context(&minor, &context, GSS_C_NO_BUFFER);
        if (target != GSS_C_NO_NAME)
            gss_release_name(&minor, &target);
        if (credential != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&minor, &credential);
    }
};

GssContext::GssContext(Mechanism mechanism, std::unique_ptr<Handles> handles)
    : mechanism_(mechanism), handles_(std::move(handles)) {}
GssContext::GssContext(GssContext &&) noexcept = default;
GssContext &GssContext::operator=(GssContext &&) noexcept = default;
GssContext::~GssContext() = default;

bool GssContext::ntlm_available() {
    static const bool available = [] {
        OM_uint32 minor = 0;
        gss_OID_set mechanisms = GSS_C_NO_OID_SET;
        if (GSS_ERROR(gss_indicate_mechs(&minor, &mechanisms)))
            return false;
        int present = 0;
        gss_test_oid_set_member(&minor, &kNtlmOid, mechanisms, &present);
        gss_release_oid_set(&minor, &mechanisms);
        return present != 0;
    }();
    return available;
}

const char *GssContext::scheme() const {
    return mechanism_ == Mechanism::Ntlm ? "NTLM" : "Negotiate";
}

Result<GssContext> GssContext::create(Mechanism mechanism, const std::string &user,
                                      const std::string &password, const std::string &host) {
    gss_OID oid = mechanism == Mechanism::Ntlm ? &kNtlmOid : &kSpnegoOid;
    auto handles = std::make_unique<Handles>();
    OM_uint32 minor = 0;

    gss_name_t name = GSS_C_NO_NAME;
    gss_buffer_desc user_buffer = buffer_of(user);
    OM_uint32 major = gss_import_name(&minor, &user_buffer, GSS_C_NT_USER_NAME, &name);
    if (GSS_ERROR(major))
        return gss_error("GSSAPI cannot take the user name '" + user + "'", major, minor, oid);

    gss_buffer_desc password_buffer = buffer_of(password);
    gss_OID_set_desc mechanisms = {1, oid};
    major = gss_acquire_cred_with_password(&minor, name, &password_buffer, GSS_C_INDEFINITE,
                                           &mechanisms, GSS_C_INITIATE, &handles->credential,
                                           nullptr, nullptr);
    OM_uint32 ignored = 0;
    gss_release_name(&ignored, &name);
    if (GSS_ERROR(major))
        return gss_error(std::string("GSSAPI has no ") + (oid == &kNtlmOid ? "NTLM" : "Negotiate") +
                             " credentials for user '" + user + "' (is gss-ntlmssp installed?)",
                         major, minor, oid);
    if (mechanism == Mechanism::Negotiate) {
        /* SPNEGO offers only NTLMSSP: Kerberos would need a ticket, not a password. */
        gss_OID_set_desc ntlm = {1, &kNtlmOid};
        major = gss_set_neg_mechs(&minor, handles->credential, &ntlm);
        if (GSS_ERROR(major))
            return gss_error("GSSAPI cannot offer NTLM through Negotiate", major, minor, oid);
    }

    const std::string service = "HTTP@" + host;
    gss_buffer_desc service_buffer = buffer_of(service);
    major = gss_import_name(&minor, &service_buffer, GSS_C_NT_HOSTBASED_SERVICE, &handles->target);
    if (GSS_ERROR(major))
        return gss_error("GSSAPI cannot take the service name " + service, major, minor, oid);
    return GssContext(mechanism, std::move(handles));
}

Result<std::vector<uint8_t>> GssContext::step(const std::vector<uint8_t> &input) {
    gss_OID oid = mechanism_ == Mechanism::Ntlm ? &kNtlmOid : &kSpnegoOid;
    gss_buffer_desc in = {input.size(), const_cast<uint8_t *>(input.data())};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor = 0;
    const OM_uint32 major = gss_init_sec_context(
        &minor, handles_->credential, &handles_->context, handles_->target, oid, 0,
        GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, input.empty() ? GSS_C_NO_BUFFER : &in, nullptr,
        &out, nullptr, nullptr);
    std::vector<uint8_t> token(static_cast<const uint8_t *>(out.value),
                               static_cast<const uint8_t *>(out.value) + out.length);
    OM_uint32 ignored = 0;
    gss_release_buffer(&ignored, &out);
    if (GSS_ERROR(major))
        return gss_error(std::string(scheme()) + " handshake failed", major, minor, oid);
    established_ = major == GSS_S_COMPLETE;
    return token;
}

} // namespace wmstream::push
