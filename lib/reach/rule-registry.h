/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firewalld rules this process holds, counted: two Firewall jobs of one
 * process opening the same zone/port/protocol share one rule, and only the
 * last to close removes it. Each shared rule also records which of its two
 * equivalent forms is in place (the renewal alternates them, see firewall.h)
 * and serialises renewals, so that exactly one holder renews at a time.
 * Internal to lib/reach.
 *
 * Threading: every function may be called from any thread (each Firewall job
 * runs on its own); one process-wide mutex, a leaf, guards all state.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace wmstream::reach {

/** The two equivalent forms of "accept port/protocol in zone": firewalld refuses to add one
 *  form twice (ALREADY_ENABLED) but keeps both at once, so a renewal adds the other form
 *  before removing the one in place and the port is never closed in between. */
enum class RuleForm {
    Port,     /**< addPort(zone, port, protocol, timeout) */
    RichRule, /**< addRichRule(zone, 'rule port port="N" protocol="P" accept', timeout) */
};

/** The other form. */
RuleForm other_form(RuleForm form);

struct RuleKey {
    std::string zone;
    uint16_t port = 0;
    std::string protocol;
};

/** One rule of this process; opaque, held through RuleRegistry. */
struct SharedRule;
using RuleRef = std::shared_ptr<SharedRule>;

/** What a holder's close leaves to it. */
enum class Release {
    Shared, /**< another holder still uses the rule: leave it */
    Remove, /**< the last holder: remove the form in place */
    Gone,   /**< the rule was never added or is no longer there: nothing to remove */
};

class RuleRegistry {
public:
    /** The registry of this process. */
    static RuleRegistry &process();

    /** Hold the rule this process holds (or is adding) for @p key; null when there is none. */
    RuleRef join(const RuleKey &key);

    /**
     * Hold the rule for @p key: join() it, or, when there is none, make it
     * (adding, held once) and set @p first: the caller must then add it with
     * @p timeout_s and call added() or drop().
     */
    RuleRef claim(const RuleKey &key, uint32_t timeout_s, bool *first);

    /** The first holder added @p rule in @p form, now. */
    void added(const RuleRef &rule, RuleForm form);

    /** The rule is not (or no longer) there (adding failed, firewalld reloaded or went
     *  away): later join()s do not find it, its holders see !alive(). Still held. */
    void drop(const RuleRef &rule);

    /** False once dropped. */
    bool alive(const RuleRef &rule);

    /** When @p rule is in place, nobody renews it and half its timeout passed since it was
     *  added or last renewed: mark it renewing and return the form in place. */
    std::optional<RuleForm> begin_renew(const RuleRef &rule);

    /** The renewal begin_renew() allowed is over: @p form is now in place, renewed now;
     *  nullopt = it failed, the form in place is unchanged. */
    void end_renew(const RuleRef &rule, std::optional<RuleForm> form);

    /** Stop holding @p rule; @p form is set to the form in place for Remove. */
    [[nodiscard]] Release release(const RuleRef &rule, RuleForm *form);

private:
    using Key = std::tuple<std::string, uint16_t, std::string>;

    RuleRegistry() = default;
    /* Forgets @p rule unless another rule took its key since. Called with lock_ held. */
    void forget(const RuleRef &rule);

    std::mutex lock_; /* a leaf: nothing is called with it held */
    /* Protected by lock_: the live rules by key. */
    std::map<Key, RuleRef> rules_;
};

} // namespace wmstream::reach
