/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * STREAM_STATUS for the sinks' own threads (plugin/stream-status.h): a bus
 * sync handler, as an application that sets thread priorities has, sees
 * CREATE, then ENTER on each new thread itself (the message's object is
 * that GThread, the owner the sink) and lowers that thread's priority
 * there; the priority sticks to the right thread while the sink is open,
 * and every thread that entered posts LEAVE on itself by NULL. wmnetsink
 * with io-threads=2 has three (relay, server I/O thread, one send helper),
 * wmpushsink two (relay, push I/O thread).
 */
#include <gst/check/gstcheck.h>
#include <gst/gst.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

/** The nice value the handler gives each thread that enters (raising it needs no privilege). */
constexpr int kNice = 7;

struct Event {
    GstStreamStatusType type;
    GThread *thread;   /* the message's object; null when it had none (CREATE) */
    bool on_thread;    /* posted by that thread itself */
    pid_t tid;         /* the posting thread's */
    bool owner_is_src; /* owner and source are the sink */
};

struct Seen {
    std::mutex lock;
    std::vector<Event> events; /* Protected by lock */

    std::vector<Event> of(GstStreamStatusType type) {
        std::lock_guard<std::mutex> locker(lock);
        std::vector<Event> out;
        for (const Event &event : events)
            if (event.type == type)
                out.push_back(event);
        return out;
    }
};

GstBusSyncReply on_sync(GstBus *, GstMessage *message, gpointer data) {
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_STREAM_STATUS)
        return GST_BUS_PASS;
    GstStreamStatusType type;
    GstElement *owner = nullptr;
    gst_message_parse_stream_status(message, &type, &owner);
    Event event{type, nullptr, false, gettid(), owner == GST_ELEMENT(GST_MESSAGE_SRC(message))};
    if (const GValue *object = gst_message_get_stream_status_object(message)) {
        fail_unless(G_VALUE_HOLDS(object, G_TYPE_THREAD), "object is a %s",
                    G_VALUE_TYPE_NAME(object));
        event.thread = static_cast<GThread *>(g_value_get_boxed(object));
        event.on_thread = event.thread == g_thread_self();
    }
    if (type == GST_STREAM_STATUS_TYPE_ENTER)
        setpriority(PRIO_PROCESS, id_t(event.tid), kNice); /* Linux: this thread only */
    auto *seen = static_cast<Seen *>(data);
    std::lock_guard<std::mutex> locker(seen->lock);
    seen->events.push_back(event);
    gst_message_unref(message); /* a sync handler that drops a message frees it */
    return GST_BUS_DROP;
}

void set_state(GstElement *pipeline, GstState state) {
    GstStateChangeReturn ret = gst_element_set_state(pipeline, state);
    if (ret == GST_STATE_CHANGE_ASYNC)
        ret = gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND);
    fail_unless(ret == GST_STATE_CHANGE_SUCCESS || ret == GST_STATE_CHANGE_NO_PREROLL);
}

/** The sink of @p description in a pipeline, READY then NULL, with @p threads threads. */
void check_threads(const char *description, size_t threads) {
    GError *error = nullptr;
    GstElement *sink = gst_parse_launch(description, &error);
    fail_unless(sink != nullptr && error == nullptr, "%s", description);
    GstElement *pipeline = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(pipeline), sink);
    Seen seen;
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_bus_set_sync_handler(bus, on_sync, &seen, nullptr);

    set_state(pipeline, GST_STATE_READY);
    /* CREATE comes before the thread exists; ENTER may follow the state change. */
    const gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (seen.of(GST_STREAM_STATUS_TYPE_ENTER).size() < threads && g_get_monotonic_time() < end)
        g_usleep(10000);
    const std::vector<Event> created = seen.of(GST_STREAM_STATUS_TYPE_CREATE);
    const std::vector<Event> entered = seen.of(GST_STREAM_STATUS_TYPE_ENTER);
    fail_unless_equals_int(created.size(), threads);
    fail_unless_equals_int(entered.size(), threads);
    std::set<GThread *> entered_threads;
    for (const Event &event : created)
        fail_unless(event.owner_is_src && event.thread == nullptr);
    for (const Event &event : entered) {
        fail_unless(event.owner_is_src);
        fail_unless(event.on_thread, "ENTER not posted by the thread it names");
        entered_threads.insert(event.thread);
        errno = 0;
        const int nice = getpriority(PRIO_PROCESS, id_t(event.tid));
        fail_unless(errno == 0 && nice == kNice, "thread %d has nice %d, not %d", int(event.tid),
                    nice, kNice);
    }
    fail_unless_equals_int(entered_threads.size(), threads);
    fail_unless(seen.of(GST_STREAM_STATUS_TYPE_LEAVE).empty());

    set_state(pipeline, GST_STATE_NULL);
    const std::vector<Event> left = seen.of(GST_STREAM_STATUS_TYPE_LEAVE);
    fail_unless_equals_int(left.size(), threads);
    std::set<GThread *> left_threads;
    for (const Event &event : left) {
        fail_unless(event.owner_is_src && event.on_thread);
        left_threads.insert(event.thread);
    }
    fail_unless(left_threads == entered_threads, "LEAVE from threads that never entered");

    gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
}

GST_START_TEST(test_wmnetsink_threads) {
    check_threads("wmnetsink port=0 address=127.0.0.1 io-threads=2", 3);
}
GST_END_TEST;

/* Nothing listens on port 1: the push client keeps retrying on its thread until NULL. */
GST_START_TEST(test_wmpushsink_threads) {
    check_threads("wmpushsink location=http://127.0.0.1:1/pp", 2);
}
GST_END_TEST;

Suite *stream_status_suite() {
    Suite *suite = suite_create("stream-status");
    TCase *tcase = tcase_create("threads");
    tcase_add_test(tcase, test_wmnetsink_threads);
    tcase_add_test(tcase, test_wmpushsink_threads);
    suite_add_tcase(suite, tcase);
    return suite;
}

} // namespace

GST_CHECK_MAIN(stream_status)
