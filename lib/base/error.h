/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmstream error model: typed results without exceptions.
 *
 * Every failure the core library reports is an Error: a code (Errc), a
 * human-readable message, and — through condition() — the documented
 * Windows Media condition it corresponds to (name + HRESULT value), as
 * listed in the Windows Media Format SDK reference (nserror.h, winerror.h,
 * asferr.h). The GStreamer glue maps Errc onto GStreamer error domains and
 * codes; see docs/errors.md.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace wmstream {

/** What went wrong, independent of GStreamer. */
enum class Errc {
    InvalidArgument,   /**< bad parameter or bad bind address: E_INVALIDARG */
    InvalidRequest,    /**< call not valid in this state (already open, changes while open):
                            NS_E_INVALID_REQUEST */
    PortInUse,         /**< bind failed with EADDRINUSE: NS_E_NETWORK_RESOURCE_FAILURE */
    AccessDenied,      /**< bind/connect refused by permissions (EACCES): E_ACCESSDENIED */
    NetworkFailure,    /**< other socket/listen failure: NS_E_NETWORK_RESOURCE_FAILURE */
    InvalidData,       /**< corrupt or non-ASF input, malformed protocol data: NS_E_INVALID_DATA */
    InvalidName,       /**< bad URL or unknown host: NS_E_INVALID_NAME */
    ConnectionFailure, /**< connection refused or lost: NS_E_CONNECTION_FAILURE */
    NoConnection,      /**< operation needs a connection that never existed: NS_E_NOCONNECTION */
    InvalidClient,     /**< unknown client id/index: NS_E_INVALID_CLIENT */
    BufferTooSmall,    /**< output buffer too small: ASF_E_BUFFERTOOSMALL */
    Failed,            /**< anything else: E_FAIL */
};

/** A documented Windows Media condition: its symbolic name and HRESULT. */
struct Condition {
    const char *name;
    uint32_t hresult;
};

/** The documented condition for @p code (e.g. PortInUse →
 *  {"NS_E_NETWORK_RESOURCE_FAILURE", 0xC00D0028}). */
Condition condition(Errc code);

/** Short English name of @p code, e.g. "port in use". */
const char *to_string(Errc code);

/** A failure: code plus message (the message never contains secrets). */
struct Error {
    Errc code = Errc::Failed;
    std::string message;
};

/** Either a value of type T or an Error. Converts to bool (true = success). */
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}
    Result(Error error) : error_(std::move(error)) {}

    explicit operator bool() const { return value_.has_value(); }
    bool ok() const { return value_.has_value(); }
    T &value() { return *value_; }
    const T &value() const { return *value_; }
    T &operator*() { return *value_; }
    const T &operator*() const { return *value_; }
    T *operator->() { return &*value_; }
    const T *operator->() const { return &*value_; }
    const Error &error() const { return error_; }

private:
    std::optional<T> value_;
    Error error_;
};

/** Success or an Error, for operations without a value. */
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error)) {}

    explicit operator bool() const { return !error_.has_value(); }
    bool ok() const { return !error_.has_value(); }
    const Error &error() const { return *error_; }

private:
    std::optional<Error> error_;
};

/** Convenience: build an Error. */
inline Error make_error(Errc code, std::string message) {
    return Error{code, std::move(message)};
}

} // namespace wmstream
