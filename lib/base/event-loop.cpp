/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EventLoop: the queue is a vector under a leaf lock, handed to the loop
 * thread by one GSource of its own kind that post() makes ready (ready time 0)
 * when the queue stops being empty; the loop thread takes the whole queue at
 * each dispatch. quit() also makes it ready, so that a quit() that came
 * before g_main_loop_run() (which would forget it) is repeated from inside.
 */
#include "base/event-loop.h"

#include "base/gio-types.h"
#include "base/timer.h"

#include <condition_variable>
#include <memory>
#include <utility>

namespace wmstream {

namespace {

struct TaskSource {
    GSource source;
    EventLoop *loop;
};

} // namespace

EventLoop::EventLoop() : context_(g_main_context_new()), loop_(g_main_loop_new(context_, FALSE)) {
    ensure_gio_types(); /* before this loop's thread, or any other, runs GIO code */
    /* prepare, check, dispatch, finalize: ready only by its ready time. */
    static GSourceFuncs task_funcs = {nullptr, nullptr, &EventLoop::dispatch,
                                      nullptr, nullptr, nullptr};
    task_source_ = g_source_new(&task_funcs, sizeof(TaskSource));
    reinterpret_cast<TaskSource *>(task_source_)->loop = this;
    g_source_attach(task_source_, context_);
}

EventLoop::~EventLoop() {
    stop();
    drop_tasks(); /* posted while stopped */
    g_source_destroy(task_source_);
    g_source_unref(task_source_);
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
}

void EventLoop::start(Task on_start, Task on_exit, ThreadHook hook, const char *role) {
    g_return_if_fail(!thread_.joinable());
    {
        std::lock_guard<std::mutex> locker(lock_);
        started_ = true;
        quitting_ = false;
    }
    if (hook)
        hook(ThreadEvent::Create, role);
    thread_ = std::thread([this, on_start = std::move(on_start), on_exit = std::move(on_exit),
                           hook = std::move(hook), role] { run(on_start, on_exit, hook, role); });
}

void EventLoop::run(const Task &on_start, const Task &on_exit, const ThreadHook &hook,
                    const char *role) {
    if (hook)
        hook(ThreadEvent::Enter, role);
    loop_thread_ = std::this_thread::get_id();
    g_main_context_push_thread_default(context_);
    if (on_start)
        on_start();
    if (!quitting_)
        g_main_loop_run(loop_);
    if (on_exit)
        on_exit();
    g_main_context_pop_thread_default(context_);
    loop_thread_ = std::thread::id();
    drop_tasks(); /* the loop may return with tasks queued (no call() waits for join()) */
    if (hook)
        hook(ThreadEvent::Leave, role);
}

void EventLoop::post(Task task) {
    enqueue(std::move(task), false);
}

void EventLoop::enqueue(Task task, bool started_only) {
    bool was_empty = false;
    {
        std::lock_guard<std::mutex> locker(lock_);
        if (quitting_ || (started_only && !started_))
            return; /* task is destroyed out of the lock */
        was_empty = tasks_.empty();
        tasks_.push_back(std::move(task));
    }
    if (was_empty)
        g_source_set_ready_time(task_source_, 0);
}

void EventLoop::call(const Task &task) {
    if (std::this_thread::get_id() == loop_thread_.load()) {
        task();
        return;
    }
    struct Done {
        std::mutex lock;
        std::condition_variable cond;
        bool done = false; /* Protected by lock */
    };
    /* Owned by the queued task: destroyed once it ran or was dropped, it wakes the caller. */
    struct Completion {
        ~Completion() {
            {
                std::lock_guard<std::mutex> locker(done->lock);
                done->done = true;
            }
            done->cond.notify_all();
        }
        std::shared_ptr<Done> done;
    };
    auto done = std::make_shared<Done>();
    enqueue([&task, completion = std::shared_ptr<Completion>(new Completion{done})] { task(); },
            true);
    std::unique_lock<std::mutex> locker(done->lock);
    done->cond.wait(locker, [&done] { return done->done; });
}

void EventLoop::quit() {
    {
        std::lock_guard<std::mutex> locker(lock_);
        quitting_ = true;
    }
    g_main_loop_quit(loop_);
    g_source_set_ready_time(task_source_, 0);
}

void EventLoop::join() {
    if (!thread_.joinable())
        return;
    thread_.join();
    std::lock_guard<std::mutex> locker(lock_);
    started_ = false;
    quitting_ = false;
}

void EventLoop::stop() {
    if (!thread_.joinable())
        return;
    quit();
    join();
}

bool EventLoop::iterate_until(const std::function<bool()> &done, int64_t timeout_us) {
    bool expired = false;
    Timer bound;
    bound.arm(context_, timeout_us, [&expired] { expired = true; });
    while (!done() && !expired)
        g_main_context_iteration(context_, TRUE);
    return done();
}

gboolean EventLoop::dispatch(GSource *source, GSourceFunc, gpointer) {
    reinterpret_cast<TaskSource *>(source)->loop->run_tasks();
    return G_SOURCE_CONTINUE;
}

void EventLoop::run_tasks() {
    /* Not ready again until post() or quit() says so (GLib does not reset it). */
    g_source_set_ready_time(task_source_, -1);
    if (quitting_) {
        g_main_loop_quit(loop_);
        drop_tasks();
        return;
    }
    {
        std::lock_guard<std::mutex> locker(lock_);
        batch_.swap(tasks_);
    }
    for (Task &queued : batch_) {
        if (quitting_)
            break;
        Task task = std::move(queued); /* destroyed as soon as it ran (call() waits for that) */
        task();
    }
    batch_.clear();
}

void EventLoop::drop_tasks() {
    std::vector<Task> dropped;
    {
        std::lock_guard<std::mutex> locker(lock_);
        dropped.swap(tasks_);
    }
}

} // namespace wmstream
