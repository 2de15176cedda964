/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The elements' public surface against what is committed and documented:
 * every property of wmnetsink, wmpushsink and wmsrc (name, type, flags, default,
 * range or values, blurb), signal (arguments, return, flags) and pad
 * template is dumped as text and compared with tests/data/api/ELEMENT.txt,
 * so that no change to it goes unnoticed; and the property, signal and
 * action tables of docs/ELEMENT.md must name exactly the element's own
 * properties and signals, so that the docs cannot drift from the code.
 *
 * After an intended change: WMSTREAM_UPDATE_API=1 meson test -C build api
 * rewrites the committed dumps (review the diff).
 */
/* The C++ streams first: gstcheck.h defines a macro `fail` that they use. */
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

namespace {

std::string flags_text(GParamFlags flags) {
    std::string text;
    const auto add = [&](bool on, const char *name) {
        if (on)
            text += text.empty() ? name : std::string(",") + name;
    };
    add(flags & G_PARAM_READABLE, "readable");
    add(flags & G_PARAM_WRITABLE, "writable");
    add(flags & G_PARAM_CONSTRUCT_ONLY, "construct-only");
    add(flags & GST_PARAM_CONTROLLABLE, "controllable");
    add(flags & GST_PARAM_MUTABLE_READY, "mutable-ready");
    add(flags & GST_PARAM_MUTABLE_PAUSED, "mutable-paused");
    add(flags & GST_PARAM_MUTABLE_PLAYING, "mutable-playing");
    add(flags & GST_PARAM_DOC_SHOW_DEFAULT, "doc-show-default");
    return text;
}

template <typename Spec>
std::string range(const Spec *spec) {
    std::ostringstream text;
    text << " range " << spec->minimum << ".." << spec->maximum;
    return text.str();
}

/** The range or values of @p spec, "" for types without one. */
std::string values(GParamSpec *spec) {
    if (G_IS_PARAM_SPEC_INT(spec))
        return range(G_PARAM_SPEC_INT(spec));
    if (G_IS_PARAM_SPEC_UINT(spec))
        return range(G_PARAM_SPEC_UINT(spec));
    if (G_IS_PARAM_SPEC_INT64(spec))
        return range(G_PARAM_SPEC_INT64(spec));
    if (G_IS_PARAM_SPEC_UINT64(spec))
        return range(G_PARAM_SPEC_UINT64(spec));
    if (G_IS_PARAM_SPEC_DOUBLE(spec))
        return range(G_PARAM_SPEC_DOUBLE(spec));
    if (G_IS_PARAM_SPEC_ENUM(spec)) {
        std::string text = " values";
        GEnumClass *klass = G_PARAM_SPEC_ENUM(spec)->enum_class;
        for (guint i = 0; i < klass->n_values; ++i)
            text += std::string(" ") + klass->values[i].value_nick + "=" +
                    std::to_string(klass->values[i].value);
        return text;
    }
    return "";
}

std::string default_text(GParamSpec *spec) {
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    g_param_value_set_default(spec, &value);
    const bool null = (G_VALUE_HOLDS_BOXED(&value) && !g_value_get_boxed(&value)) ||
                      (G_VALUE_HOLDS_OBJECT(&value) && !g_value_get_object(&value));
    g_autofree gchar *text = null ? g_strdup("NULL") : g_strdup_value_contents(&value);
    g_value_unset(&value);
    return text ? text : "";
}

/** The element's own properties (not its parents'), by name. */
std::vector<GParamSpec *> own_properties(GType type) {
    GObjectClass *klass = G_OBJECT_CLASS(g_type_class_ref(type));
    guint count = 0;
    GParamSpec **specs = g_object_class_list_properties(klass, &count);
    std::vector<GParamSpec *> own;
    for (guint i = 0; i < count; ++i)
        if (specs[i]->owner_type == type)
            own.push_back(specs[i]);
    g_free(specs);
    g_type_class_unref(klass);
    std::sort(own.begin(), own.end(),
              [](GParamSpec *a, GParamSpec *b) { return g_strcmp0(a->name, b->name) < 0; });
    return own;
}

/** The element's own signals, by name. */
std::vector<guint> own_signals(GType type) {
    guint count = 0;
    guint *ids = g_signal_list_ids(type, &count);
    std::vector<guint> own(ids, ids + count);
    g_free(ids);
    std::sort(own.begin(), own.end(),
              [](guint a, guint b) { return g_strcmp0(g_signal_name(a), g_signal_name(b)) < 0; });
    return own;
}

std::string dump(const char *element) {
    GstElementFactory *factory = gst_element_factory_find(element);
    fail_unless(factory != nullptr, "no %s", element);
    GstPluginFeature *loaded = gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory));
    const GType type = gst_element_factory_get_element_type(GST_ELEMENT_FACTORY(loaded));
    std::string text = std::string("element ") + element + "\n";
    for (GParamSpec *spec : own_properties(type))
        text += std::string("property ") + spec->name + " " + g_type_name(spec->value_type) + " [" +
                flags_text(spec->flags) + "] default " + default_text(spec) + values(spec) +
                "\n  " + g_param_spec_get_blurb(spec) + "\n";
    for (guint id : own_signals(type)) {
        GSignalQuery query;
        g_signal_query(id, &query);
        text += std::string("signal ") + query.signal_name + " (";
        for (guint i = 0; i < query.n_params; ++i)
            text += std::string(i ? ", " : "") + g_type_name(query.param_types[i]);
        text += std::string(") -> ") + g_type_name(query.return_type) +
                ((query.signal_flags & G_SIGNAL_ACTION) ? " action" : "") + "\n";
    }
    for (const GList *item =
             gst_element_factory_get_static_pad_templates(GST_ELEMENT_FACTORY(loaded));
         item; item = item->next) {
        auto *pad = static_cast<GstStaticPadTemplate *>(item->data);
        text += std::string("pad ") + pad->name_template + " " +
                (pad->direction == GST_PAD_SRC ? "src" : "sink") + " " +
                (pad->presence == GST_PAD_ALWAYS ? "always" : "other") + " " +
                pad->static_caps.string + "\n";
    }
    gst_object_unref(loaded);
    gst_object_unref(factory);
    return text;
}

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/**
 * The names in the first column (`name`) of the tables under the "## "
 * headings @p sections; a row for a parent class's property, "`sync`
 * (GstBaseSink)", is not the element's own and is left out.
 */
std::set<std::string> documented(const std::string &doc, const std::vector<std::string> &sections) {
    std::set<std::string> names;
    std::istringstream lines(doc);
    bool inside = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("## ", 0) == 0)
            inside = std::find(sections.begin(), sections.end(), line.substr(3)) != sections.end();
        else if (inside && line.rfind("| `", 0) == 0) {
            const size_t close = line.find('`', 3);
            if (close != std::string::npos && line.compare(close + 1, 5, " (Gst") != 0)
                names.insert(line.substr(3, close - 3));
        }
    }
    return names;
}

std::string joined(const std::set<std::string> &names) {
    std::string text;
    for (const std::string &name : names)
        text += name + " ";
    return text;
}

void check_element(const char *element, const std::vector<std::string> &signal_sections) {
    const std::string data = g_getenv("WMSTREAM_TEST_DATA");
    const std::string committed_path = data + "/api/" + element + ".txt";
    const std::string actual = dump(element);
    if (g_getenv("WMSTREAM_UPDATE_API")) {
        std::ofstream(committed_path) << actual;
        return;
    }
    const std::string committed = read_file(committed_path);
    if (actual != committed)
        g_printerr("%s as built:\n%s\n", element, actual.c_str());
    fail_unless(actual == committed,
                "%s's properties, signals or pads differ from %s (printed above; after an "
                "intended change: WMSTREAM_UPDATE_API=1 meson test -C build api)",
                element, committed_path.c_str());

    GstElementFactory *factory = gst_element_factory_find(element);
    GstPluginFeature *loaded = gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory));
    const GType type = gst_element_factory_get_element_type(GST_ELEMENT_FACTORY(loaded));
    std::set<std::string> properties, signals;
    for (GParamSpec *spec : own_properties(type))
        properties.insert(spec->name);
    for (guint id : own_signals(type))
        signals.insert(g_signal_name(id));
    gst_object_unref(loaded);
    gst_object_unref(factory);

    const std::string doc =
        read_file(std::string(g_getenv("WMSTREAM_DOCS")) + "/" + element + ".md");
    const std::set<std::string> doc_properties = documented(doc, {"Properties"});
    fail_unless(doc_properties == properties,
                "docs/%s.md lists the properties %s; the element has %s", element,
                joined(doc_properties).c_str(), joined(properties).c_str());
    const std::set<std::string> doc_signals = documented(doc, signal_sections);
    fail_unless(doc_signals == signals, "docs/%s.md lists the signals %s; the element has %s",
                element, joined(doc_signals).c_str(), joined(signals).c_str());
}

GST_START_TEST(test_wmnetsink_api) {
    check_element("wmnetsink", {"Signals", "Action signals"});
}
GST_END_TEST;

GST_START_TEST(test_wmpushsink_api) {
    check_element("wmpushsink", {"Action signal"});
}
GST_END_TEST;

GST_START_TEST(test_wmsrc_api) {
    check_element("wmsrc", {});
}
GST_END_TEST;

Suite *api_suite() {
    Suite *suite = suite_create("api");
    TCase *tcase = tcase_create("api");
    suite_add_tcase(suite, tcase);
    tcase_add_test(tcase, test_wmnetsink_api);
    tcase_add_test(tcase, test_wmpushsink_api);
    tcase_add_test(tcase, test_wmsrc_api);
    return suite;
}

} // namespace

GST_CHECK_MAIN(api);
