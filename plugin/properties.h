/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The properties of a sink, declared once. Each entry of a PropertyTable
 * makes the property's GParamSpec, its setter and its getter from one
 * accessor of the element's Settings struct, and says when the value may
 * change (Mutability): the table installs the specs and answers
 * set_property and get_property, so "refused while open" is one rule for
 * every element. The values live in a PropertyStore together with the
 * element's "open" flag, under one lock. Element-agnostic.
 */
#pragma once

#include <glib-object.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace wmstream::plugin {

/** When a property may change. */
enum class Mutability {
    /** Read at NULL→READY, refused while open (a WARNING; the old value stays). */
    Fixed,
    /** Read at NULL→READY; accepted while open and used from the next open. */
    NextOpen,
    /** Changeable in every state. */
    Any,
    /** A value of the running sink, read-only. */
    ReadOnly,
};

/** The GParamFlags of a property of @p mutability (GST_PARAM_MUTABLE_READY for those read
 *  at NULL→READY). */
GParamFlags param_flags(Mutability mutability);

/** Post the WARNING for a change of @p pspec refused while open (RESOURCE/SETTINGS,
 *  NS_E_INVALID_REQUEST, details "property"). */
void post_refused_change(GObject *element, GParamSpec *pspec);

template <typename Settings>
class PropertyTable;

/** The values of an element's properties and whether it is open. */
template <typename Settings>
class PropertyStore {
public:
    /** NULL→READY: the sink is open from now on; returns the values to open with. */
    Settings open() {
        std::lock_guard<std::mutex> locker(lock_);
        open_ = true;
        return values_;
    }
    /** The sink is closed (READY→NULL, or a failed NULL→READY). */
    void close() {
        std::lock_guard<std::mutex> locker(lock_);
        open_ = false;
    }
    /** Unless the sink is open, @p write(values) with the lock held; false when open. */
    template <typename Write>
    bool write_unless_open(Write write) {
        std::lock_guard<std::mutex> locker(lock_);
        if (open_)
            return false;
        write(values_);
        return true;
    }
    /** @p read(values) with the lock held. */
    template <typename Read>
    auto read(Read read) const {
        std::lock_guard<std::mutex> locker(lock_);
        return read(values_);
    }

private:
    friend class PropertyTable<Settings>;

    /* A leaf lock: held only to copy or store values, never while notifying, posting or
     * reading a live value. */
    mutable std::mutex lock_;
    /* Protected by lock_ */
    Settings values_;
    /* Protected by lock_: true from open() until close(). */
    bool open_ = false;
};

/**
 * The property table of an element whose values are a @p Settings struct.
 * An accessor is a callable returning a reference to the field in a
 * Settings (a generic lambda, `[](auto &s) -> auto & { return s.port; }`),
 * used both ways; the default value is the field's in `Settings{}`.
 * Property ids are the order of the add_* calls, from 1. Built in class_init;
 * install() then installs the specs.
 */
template <typename Settings>
class PropertyTable {
public:
    /** Stores the value; true when it changed. */
    using Set = std::function<bool(Settings &, const GValue *)>;
    using Get = std::function<void(const Settings &, GValue *)>;
    /** A live value of the element, read without the store's lock. */
    using Read = std::function<void(GObject *, GValue *)>;

    /** A stored property with its own @p set and @p get (@p get may be empty for a
     *  write-only one); @p spec's flags come from param_flags(). */
    GParamSpec *add(GParamSpec *spec, Mutability mutability, Set set, Get get) {
        entries_.push_back({spec, mutability, std::move(set), std::move(get), nullptr});
        return spec;
    }

    /** A read-only live value. */
    GParamSpec *add_live(GParamSpec *spec, Read read) {
        entries_.push_back({spec, Mutability::ReadOnly, nullptr, nullptr, std::move(read)});
        return spec;
    }

    /** A number: gint, guint, gint64 or guint64 (the type of @p min and @p max), on an
     *  arithmetic or enum field of any width. */
    template <typename Value, typename Access>
    GParamSpec *add_number(const char *name, const char *nick, const char *blurb, Value min,
                           Value max, Mutability mutability, Access access) {
        const Value fallback = static_cast<Value>(access(defaults()));
        return add(
            number_spec(name, nick, blurb, min, max, fallback, param_flags(mutability)), mutability,
            [access](Settings &settings, const GValue *value) {
                return assign(access(settings), get_number<Value>(value));
            },
            [access](const Settings &settings, GValue *value) {
                set_number(value, static_cast<Value>(access(settings)));
            });
    }

    /** A duration in nanoseconds (guint64) on a field in microseconds (int64_t). */
    template <typename Access>
    GParamSpec *add_duration(const char *name, const char *nick, const char *blurb, guint64 min_ns,
                             guint64 max_ns, Mutability mutability, Access access) {
        const guint64 fallback = static_cast<guint64>(access(defaults())) * 1000;
        return add(
            g_param_spec_uint64(name, nick, blurb, min_ns, max_ns, fallback,
                                param_flags(mutability)),
            mutability,
            [access](Settings &settings, const GValue *value) {
                return assign(access(settings),
                              static_cast<int64_t>(g_value_get_uint64(value) / 1000));
            },
            [access](const Settings &settings, GValue *value) {
                g_value_set_uint64(value, static_cast<guint64>(access(settings)) * 1000);
            });
    }

    /** A duration in nanoseconds or −1 (gint64: "automatic", as GstBaseSink's max-lateness
     *  uses it) on a field in microseconds (int64_t) where −1 means the same. */
    template <typename Access>
    GParamSpec *add_duration_or_auto(const char *name, const char *nick, const char *blurb,
                                     gint64 max_ns, Mutability mutability, Access access) {
        const auto to_ns = [](int64_t us) { return us < 0 ? gint64(-1) : gint64(us) * 1000; };
        return add(
            g_param_spec_int64(name, nick, blurb, -1, max_ns, to_ns(access(defaults())),
                               param_flags(mutability)),
            mutability,
            [access](Settings &settings, const GValue *value) {
                const gint64 ns = g_value_get_int64(value);
                return assign(access(settings), ns < 0 ? int64_t(-1) : int64_t(ns / 1000));
            },
            [access, to_ns](const Settings &settings, GValue *value) {
                g_value_set_int64(value, to_ns(access(settings)));
            });
    }

    template <typename Access>
    GParamSpec *add_boolean(const char *name, const char *nick, const char *blurb,
                            Mutability mutability, Access access) {
        return add(
            g_param_spec_boolean(name, nick, blurb, access(defaults()), param_flags(mutability)),
            mutability,
            [access](Settings &settings, const GValue *value) {
                return assign(access(settings), g_value_get_boolean(value) != FALSE);
            },
            [access](const Settings &settings, GValue *value) {
                g_value_set_boolean(value, access(settings));
            });
    }

    /** A string on a std::string field: NULL and "" are the same, read back as NULL. A
     *  @p secret is write-only (never read back). */
    template <typename Access>
    GParamSpec *add_string(const char *name, const char *nick, const char *blurb,
                           Mutability mutability, Access access, bool secret = false) {
        const std::string fallback = access(defaults());
        GParamFlags flags = param_flags(mutability);
        if (secret)
            flags = GParamFlags(flags & ~G_PARAM_READABLE);
        Get get;
        if (!secret)
            get = [access](const Settings &settings, GValue *value) {
                const std::string &text = access(settings);
                g_value_set_string(value, text.empty() ? nullptr : text.c_str());
            };
        return add(
            g_param_spec_string(name, nick, blurb, fallback.empty() ? nullptr : fallback.c_str(),
                                flags),
            mutability,
            [access](Settings &settings, const GValue *value) {
                const char *text = g_value_get_string(value);
                return assign(access(settings), std::string(text ? text : ""));
            },
            std::move(get));
    }

    /** A registered enum or flags @p type on a field whose values are the type's. */
    template <typename Access>
    GParamSpec *add_enum(const char *name, const char *nick, const char *blurb, GType type,
                         Mutability mutability, Access access) {
        using Field = std::decay_t<decltype(access(std::declval<Settings &>()))>;
        const auto fallback = static_cast<gint>(access(defaults()));
        const GParamFlags flags = param_flags(mutability);
        return add(
            G_TYPE_IS_FLAGS(type)
                ? g_param_spec_flags(name, nick, blurb, type, static_cast<guint>(fallback), flags)
                : g_param_spec_enum(name, nick, blurb, type, fallback, flags),
            mutability,
            [access](Settings &settings, const GValue *value) {
                const gint chosen = G_VALUE_HOLDS_FLAGS(value)
                                        ? static_cast<gint>(g_value_get_flags(value))
                                        : g_value_get_enum(value);
                return assign(access(settings), static_cast<Field>(chosen));
            },
            [access](const Settings &settings, GValue *value) {
                const auto chosen = static_cast<gint>(access(settings));
                if (G_VALUE_HOLDS_FLAGS(value))
                    g_value_set_flags(value, static_cast<guint>(chosen));
                else
                    g_value_set_enum(value, chosen);
            });
    }

    /** Install every spec on @p klass, with ids in the order they were added. */
    void install(GObjectClass *klass) const {
        for (size_t i = 0; i < entries_.size(); ++i)
            g_object_class_install_property(klass, static_cast<guint>(i + 1), entries_[i].spec);
    }

    /** GObject set_property: store the value unless the sink is open and the property is
     *  Fixed (then a WARNING); notify a change. */
    void set_property(PropertyStore<Settings> &store, GObject *object, guint id,
                      const GValue *value, GParamSpec *pspec) const {
        const Entry *entry = find(id);
        if (!entry || !entry->set) {
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
            return;
        }
        bool refused = false;
        bool changed = false;
        {
            std::lock_guard<std::mutex> locker(store.lock_);
            refused = store.open_ && entry->mutability == Mutability::Fixed;
            if (!refused)
                changed = entry->set(store.values_, value);
        }
        if (refused)
            post_refused_change(object, pspec);
        else if (changed)
            g_object_notify_by_pspec(object, pspec);
    }

    /** GObject get_property: a live value, or the stored one. */
    void get_property(const PropertyStore<Settings> &store, GObject *object, guint id,
                      GValue *value, GParamSpec *pspec) const {
        const Entry *entry = find(id);
        if (entry && entry->read) {
            entry->read(object, value);
        } else if (entry && entry->get) {
            std::lock_guard<std::mutex> locker(store.lock_);
            entry->get(store.values_, value);
        } else {
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        }
    }

private:
    struct Entry {
        GParamSpec *spec;
        Mutability mutability;
        Set set;
        Get get;
        Read read;
    };

    static const Settings &defaults() {
        static const Settings settings{};
        return settings;
    }

    const Entry *find(guint id) const {
        return id >= 1 && id <= entries_.size() ? &entries_[id - 1] : nullptr;
    }

    /* @p field = @p value; true when it changed. */
    template <typename Field, typename Value>
    static bool assign(Field &field, Value value) {
        const auto converted = static_cast<Field>(value);
        return std::exchange(field, converted) != converted;
    }

    static GParamSpec *number_spec(const char *name, const char *nick, const char *blurb, gint min,
                                   gint max, gint fallback, GParamFlags flags) {
        return g_param_spec_int(name, nick, blurb, min, max, fallback, flags);
    }
    static GParamSpec *number_spec(const char *name, const char *nick, const char *blurb, guint min,
                                   guint max, guint fallback, GParamFlags flags) {
        return g_param_spec_uint(name, nick, blurb, min, max, fallback, flags);
    }
    static GParamSpec *number_spec(const char *name, const char *nick, const char *blurb,
                                   gint64 min, gint64 max, gint64 fallback, GParamFlags flags) {
        return g_param_spec_int64(name, nick, blurb, min, max, fallback, flags);
    }
    static GParamSpec *number_spec(const char *name, const char *nick, const char *blurb,
                                   guint64 min, guint64 max, guint64 fallback, GParamFlags flags) {
        return g_param_spec_uint64(name, nick, blurb, min, max, fallback, flags);
    }

    template <typename Value>
    static Value get_number(const GValue *value) {
        if constexpr (std::is_same_v<Value, gint>)
            return g_value_get_int(value);
        else if constexpr (std::is_same_v<Value, guint>)
            return g_value_get_uint(value);
        else if constexpr (std::is_same_v<Value, gint64>)
            return g_value_get_int64(value);
        else
            return g_value_get_uint64(value);
    }
    static void set_number(GValue *value, gint number) { g_value_set_int(value, number); }
    static void set_number(GValue *value, guint number) { g_value_set_uint(value, number); }
    static void set_number(GValue *value, gint64 number) { g_value_set_int64(value, number); }
    static void set_number(GValue *value, guint64 number) { g_value_set_uint64(value, number); }

    std::vector<Entry> entries_;
};

} // namespace wmstream::plugin
