/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Broadcast a live test picture with wmnetsink from C: the element's signals
 * (client-added, client-removed), its get-clients action, errors from the bus,
 * and a clean end on Ctrl-C (EOS, wait for it at most EOS_TIMEOUT_S, then
 * NULL). Exits 1 on an error. See examples/README.md.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdio.h>

#define PIPELINE                                                                                   \
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "               \
    "avenc_wmv2 bitrate=500000 gop-size=50 ! asfmux streamable=true ! wmnetsink name=sink"
/* How long Ctrl-C waits for the end of stream to reach the clients, s. */
#define EOS_TIMEOUT_S 3

typedef struct {
    GstElement *pipeline;
    GstElement *sink;
    GMainLoop *loop;
    gboolean stopping;
    int status;
} App;

/* Signals of wmnetsink are emitted from a thread of the element: print only. */
static void on_client_added(GstElement *sink, guint64 id, gpointer data) {
    g_print("client-added: %" G_GUINT64_FORMAT "\n", id);
}

static void on_client_removed(GstElement *sink, guint64 id, gint reason, gpointer data) {
    GEnumClass *reasons = g_type_class_ref(g_type_from_name("GstWmNetSinkRemoveReason"));
    g_print("client-removed: %" G_GUINT64_FORMAT " (%s)\n", id,
            g_enum_get_value(reasons, reason)->value_nick);
    g_type_class_unref(reasons);
}

static gboolean print_clients(gpointer data) {
    App *app = data;
    GstStructure *list = NULL;
    g_signal_emit_by_name(app->sink, "get-clients", &list);
    const GValue *clients = gst_structure_get_value(list, "clients");
    g_print("get-clients: %u client(s)\n", gst_value_array_get_size(clients));
    for (guint i = 0; i < gst_value_array_get_size(clients); i++) {
        const GstStructure *c = gst_value_get_structure(gst_value_array_get_value(clients, i));
        guint64 id = 0, bytes = 0;
        gst_structure_get(c, "id", G_TYPE_UINT64, &id, "bytes-sent", G_TYPE_UINT64, &bytes, NULL);
        g_print("  %" G_GUINT64_FORMAT " %s %s \"%s\" %" G_GUINT64_FORMAT " bytes sent\n", id,
                gst_structure_get_string(c, "address"), gst_structure_get_string(c, "protocol"),
                gst_structure_get_string(c, "user-agent"), bytes);
    }
    gst_structure_free(list);
    return G_SOURCE_CONTINUE;
}

static void show_error(App *app, GstMessage *message) {
    GError *error = NULL;
    gchar *debug = NULL;
    gst_message_parse_error(message, &error, &debug);
    g_printerr("ERROR from %s: %s\n  debug: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
               error->message, debug ? debug : "");
    g_clear_error(&error);
    g_free(debug);
    app->status = 1;
}

static gboolean on_message(GstBus *bus, GstMessage *message, gpointer data) {
    App *app = data;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
        show_error(app, message);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR ||
        GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS)
        g_main_loop_quit(app->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_eos_timeout(gpointer data) {
    g_printerr("no end of stream after %d s, stopping anyway\n", EOS_TIMEOUT_S);
    g_main_loop_quit(((App *)data)->loop);
    return G_SOURCE_REMOVE;
}

/* Ctrl-C (or --duration): EOS, so the clients get the end-of-stream notice. */
static gboolean stop(gpointer data) {
    App *app = data;
    if (!app->stopping) {
        app->stopping = TRUE;
        g_print("Stopping...\n");
        gst_element_send_event(app->pipeline, gst_event_new_eos());
        g_timeout_add_seconds(EOS_TIMEOUT_S, on_eos_timeout, app);
    }
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
    gint port = 8080, interval = 5, duration = 0;
    gchar *address = NULL;
    GOptionEntry entries[] = {
        {"port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port (0 = any free port)", "N"},
        {"address", 0, 0, G_OPTION_ARG_STRING, &address, "bind address (default: all)", "ADDR"},
        {"interval", 0, 0, G_OPTION_ARG_INT, &interval, "seconds between client lists", "S"},
        {"duration", 0, 0, G_OPTION_ARG_INT, &duration, "stop after this many seconds", "S"},
        G_OPTION_ENTRY_NULL,
    };
    GOptionContext *context = g_option_context_new("- broadcast a test picture with wmnetsink");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_add_group(context, gst_init_get_option_group());
    GError *error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return 2;
    }
    g_option_context_free(context);

    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, into a pipe too */
    App app = {0};
    app.pipeline = gst_parse_launch(PIPELINE, &error);
    if (!app.pipeline) {
        g_printerr("cannot build the pipeline: %s\n", error->message);
        return 1;
    }
    app.sink = gst_bin_get_by_name(GST_BIN(app.pipeline), "sink");
    g_object_set(app.sink, "port", port, "address", address, "max-clients", -1, NULL);
    g_signal_connect(app.sink, "client-added", G_CALLBACK(on_client_added), NULL);
    g_signal_connect(app.sink, "client-removed", G_CALLBACK(on_client_removed), NULL);
    app.loop = g_main_loop_new(NULL, FALSE);
    GstBus *bus = gst_element_get_bus(app.pipeline);
    gst_bus_add_watch(bus, on_message, &app);
    g_unix_signal_add(SIGINT, stop, &app);
    g_timeout_add_seconds(interval, print_clients, &app);
    if (duration > 0)
        g_timeout_add_seconds(duration, stop, &app);

    if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        app.status = 1; /* the ERROR on the bus says why (port in use, ...) */
    } else {
        g_object_get(app.sink, "current-port", &port, NULL);
        g_print("Serving on port %d: mmsh://HOST:%d/ or http://HOST:%d/\n", port, port, port);
        g_main_loop_run(app.loop);
    }
    /* Messages still queued (an ERROR of a failed state change) are shown before the end. */
    GstMessage *message;
    while ((message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR))) {
        show_error(&app, message);
        gst_message_unref(message);
    }
    gst_element_set_state(app.pipeline, GST_STATE_NULL);
    gst_bus_remove_watch(bus);
    gst_object_unref(bus);
    gst_object_unref(app.sink);
    gst_object_unref(app.pipeline);
    g_main_loop_unref(app.loop);
    g_free(address);
    return app.status;
}
