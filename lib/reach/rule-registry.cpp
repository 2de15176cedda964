/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reach/rule-registry.h"

#include <glib.h>

namespace wmstream::reach {

struct SharedRule {
    RuleKey key;
    uint32_t timeout_s = 0;
    /* The fields below are protected by the registry's lock. */
    int holders = 1;
    bool alive = true;     /* not dropped */
    bool in_place = false; /* added: a form is in place */
    RuleForm form = RuleForm::Port;
    bool renewing = false;  /* a holder is renewing it */
    int64_t renewed_us = 0; /* monotonic time it was added or last renewed */
};

RuleForm other_form(RuleForm form) {
    return form == RuleForm::Port ? RuleForm::RichRule : RuleForm::Port;
}

RuleRegistry &RuleRegistry::process() {
    static RuleRegistry registry;
    return registry;
}

void RuleRegistry::forget(const RuleRef &rule) {
    const auto found = rules_.find(Key{rule->key.zone, rule->key.port, rule->key.protocol});
    if (found != rules_.end() && found->second == rule)
        rules_.erase(found);
}

RuleRef RuleRegistry::join(const RuleKey &key) {
    std::lock_guard<std::mutex> locker(lock_);
    const auto found = rules_.find(Key{key.zone, key.port, key.protocol});
    if (found == rules_.end())
        return nullptr;
    ++found->second->holders;
    return found->second;
}

RuleRef RuleRegistry::claim(const RuleKey &key, uint32_t timeout_s, bool *first) {
    std::lock_guard<std::mutex> locker(lock_);
    RuleRef &rule = rules_[Key{key.zone, key.port, key.protocol}];
    *first = !rule;
    if (rule) {
        ++rule->holders;
    } else {
        rule = std::make_shared<SharedRule>();
        rule->key = key;
        rule->timeout_s = timeout_s;
    }
    return rule;
}

void RuleRegistry::added(const RuleRef &rule, RuleForm form) {
    std::lock_guard<std::mutex> locker(lock_);
    rule->in_place = true;
    rule->form = form;
    rule->renewed_us = g_get_monotonic_time();
}

void RuleRegistry::drop(const RuleRef &rule) {
    std::lock_guard<std::mutex> locker(lock_);
    rule->alive = false;
    forget(rule);
}

bool RuleRegistry::alive(const RuleRef &rule) {
    std::lock_guard<std::mutex> locker(lock_);
    return rule->alive;
}

std::optional<RuleForm> RuleRegistry::begin_renew(const RuleRef &rule) {
    std::lock_guard<std::mutex> locker(lock_);
    const int64_t half_us = int64_t(rule->timeout_s) * G_USEC_PER_SEC / 2;
    if (!rule->alive || !rule->in_place || rule->renewing || rule->timeout_s == 0 ||
        g_get_monotonic_time() - rule->renewed_us < half_us)
        return std::nullopt;
    rule->renewing = true;
    return rule->form;
}

void RuleRegistry::end_renew(const RuleRef &rule, std::optional<RuleForm> form) {
    std::lock_guard<std::mutex> locker(lock_);
    rule->renewing = false;
    if (form) {
        rule->form = *form;
        rule->renewed_us = g_get_monotonic_time();
    }
}

Release RuleRegistry::release(const RuleRef &rule, RuleForm *form) {
    std::lock_guard<std::mutex> locker(lock_);
    --rule->holders;
    if (rule->holders > 0)
        return rule->alive ? Release::Shared : Release::Gone;
    forget(rule);
    if (!rule->alive || !rule->in_place)
        return Release::Gone;
    *form = rule->form;
    return Release::Remove;
}

} // namespace wmstream::reach
