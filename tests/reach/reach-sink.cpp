/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reach-sink: drives one wmnetsink for the port reachability tests
 * (tests/reach/test-firewalld.sh, test-miniupnpd.sh), which run it inside network namespaces.
 *
 *   reach-sink [PROPERTY=VALUE ...]
 *
 * Builds a pipeline holding only a wmnetsink with those properties, then
 * reads commands from stdin, one per line:
 *   ready         NULL→READY; prints "state READY ms=<ms> current-port=<port>"
 *                 or "state-failed READY ms=<ms>"
 *   null          →NULL; prints "state NULL ms=<ms>"
 *   get NAME      prints "property NAME=<value>" ("(null)" for a NULL string)
 *   quit          →NULL and exit (also on end of input)
 * Bus messages are printed as they are posted, one line each:
 *   "element <structure>", "warning <domain>:<code> <message> | <details>",
 *   "error <domain>:<code> <message> | <details>", and "notify <property>" for
 *   notify::host-url / external-address / external-port.
 * Every line is written whole and flushed.
 */
#include "print-line.h"

#include <gst/gst.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace {

/** Longest wait for a state change to complete, ns. */
constexpr GstClockTime kStateTimeout = 10 * GST_SECOND;

using reachtest::print_line;

std::string structure_text(const GstStructure *structure) {
    if (!structure)
        return "(none)";
    g_autofree char *text = gst_structure_to_string(structure);
    return text;
}

std::string error_line(const char *kind, const GError *error, const GstStructure *details) {
    return std::string(kind) + " " + g_quark_to_string(error->domain) + ":" +
           std::to_string(error->code) + " " + error->message + " | " + structure_text(details);
}

GstBusSyncReply on_message(GstBus *, GstMessage *message, gpointer) {
    g_autoptr(GError) error = nullptr;
    const GstStructure *details = nullptr;
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ELEMENT:
        print_line("element " + structure_text(gst_message_get_structure(message)));
        break;
    case GST_MESSAGE_WARNING:
        gst_message_parse_warning(message, &error, nullptr);
        gst_message_parse_warning_details(message, &details);
        print_line(error_line("warning", error, details));
        break;
    case GST_MESSAGE_ERROR:
        gst_message_parse_error(message, &error, nullptr);
        gst_message_parse_error_details(message, &details);
        print_line(error_line("error", error, details));
        break;
    default:
        break;
    }
    return GST_BUS_DROP;
}

void on_notify(GObject *, GParamSpec *pspec, gpointer) {
    print_line(std::string("notify ") + pspec->name);
}

std::string property_text(GstElement *element, const char *name) {
    GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), name);
    if (!pspec)
        return "(no such property)";
    GValue value = G_VALUE_INIT;
    g_value_init(&value, pspec->value_type);
    g_object_get_property(G_OBJECT(element), name, &value);
    std::string text;
    if (G_VALUE_HOLDS_STRING(&value)) {
        const char *string = g_value_get_string(&value);
        text = string ? string : "(null)";
    } else {
        g_autofree char *contents = g_strdup_value_contents(&value);
        text = contents;
    }
    g_value_unset(&value);
    return text;
}

void change_state(GstElement *pipeline, GstElement *sink, GstState state) {
    const gint64 start = g_get_monotonic_time();
    GstStateChangeReturn ret = gst_element_set_state(pipeline, state);
    if (ret == GST_STATE_CHANGE_ASYNC)
        ret = gst_element_get_state(pipeline, nullptr, nullptr, kStateTimeout);
    const std::string ms = "ms=" + std::to_string((g_get_monotonic_time() - start) / 1000);
    const char *name = gst_element_state_get_name(state);
    if (ret == GST_STATE_CHANGE_FAILURE)
        print_line(std::string("state-failed ") + name + " " + ms);
    else if (state == GST_STATE_READY)
        print_line(std::string("state ") + name + " " + ms +
                   " current-port=" + property_text(sink, "current-port"));
    else
        print_line(std::string("state ") + name + " " + ms);
}

} // namespace

int main(int argc, char **argv) {
    gst_init(&argc, &argv);

    GstElement *pipeline = gst_pipeline_new("reach");
    GstElement *sink = gst_element_factory_make("wmnetsink", "sink");
    if (!sink) {
        std::fprintf(stderr, "reach-sink: no wmnetsink (GST_PLUGIN_PATH?)\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *equals = std::strchr(argv[i], '=');
        if (!equals) {
            std::fprintf(stderr, "reach-sink: expected PROPERTY=VALUE, got '%s'\n", argv[i]);
            return 2;
        }
        const std::string name(argv[i], equals - argv[i]);
        gst_util_set_object_arg(G_OBJECT(sink), name.c_str(), equals + 1);
    }
    gst_bin_add(GST_BIN(pipeline), sink);
    g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
    gst_bus_set_sync_handler(bus, on_message, nullptr, nullptr);
    for (const char *name : {"host-url", "external-address", "external-port"})
        g_signal_connect(sink, (std::string("notify::") + name).c_str(), G_CALLBACK(on_notify),
                         nullptr);

    char line[256];
    while (std::fgets(line, sizeof line, stdin)) {
        line[std::strcspn(line, "\r\n")] = '\0';
        if (std::strcmp(line, "ready") == 0)
            change_state(pipeline, sink, GST_STATE_READY);
        else if (std::strcmp(line, "null") == 0)
            change_state(pipeline, sink, GST_STATE_NULL);
        else if (std::strncmp(line, "get ", 4) == 0)
            print_line(std::string("property ") + (line + 4) + "=" + property_text(sink, line + 4));
        else if (std::strcmp(line, "quit") == 0)
            break;
        else
            print_line(std::string("unknown-command ") + line);
    }
    change_state(pipeline, sink, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return 0;
}
