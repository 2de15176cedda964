/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmnetsink: serves a live ASF stream to many clients, Windows Media
 * style (MS-WMSP pull and plain HTTP). See gstwmnetsink.cpp.
 */
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstWmNetSinkProtocol:
 * @GST_WM_NET_SINK_PROTOCOL_HTTP: HTTP (WMT_PROTOCOL_HTTP)
 *
 * The network protocol of the sink (IWMWriterNetworkSink::SetNetworkProtocol).
 */
typedef enum {
    GST_WM_NET_SINK_PROTOCOL_HTTP = 0,
} GstWmNetSinkProtocol;

/**
 * GstWmNetSinkRemoveReason:
 * @GST_WM_NET_SINK_REMOVE_REASON_CLOSED: the client closed the connection
 * @GST_WM_NET_SINK_REMOVE_REASON_DISCONNECTED: the application disconnected it
 *   (the disconnect action, PAUSED→READY, READY→NULL)
 * @GST_WM_NET_SINK_REMOVE_REASON_SLOW: it fell too far behind or made no progress
 *   within the timeout
 * @GST_WM_NET_SINK_REMOVE_REASON_ERROR: socket error or bad request
 * @GST_WM_NET_SINK_REMOVE_REASON_OVER_LIMIT: refused because max-clients was reached
 * @GST_WM_NET_SINK_REMOVE_REASON_EOS: the stream ended
 * @GST_WM_NET_SINK_REMOVE_REASON_FORBIDDEN: refused: its address is not allowed, or a
 *   #GstWmNetSink::client-connecting handler said no (403)
 * @GST_WM_NET_SINK_REMOVE_REASON_UNAUTHORIZED: refused: wrong viewer credentials (401)
 * @GST_WM_NET_SINK_REMOVE_REASON_NO_STREAMS: refused: the stream-switch-entry of its Play
 *   selects none of the header's streams (400; MS-WMSP §3.2.5.6)
 * @GST_WM_NET_SINK_REMOVE_REASON_REMOVED: the application removed this client (the
 *   #GstWmNetSink::remove action)
 * @GST_WM_NET_SINK_REMOVE_REASON_LOOP: refused: a loop of relays, its Via names this
 *   server (via-name) or its Max-Forwards is 0 (508 Loop Detected)
 * @GST_WM_NET_SINK_REMOVE_REASON_REDIRECTED: sent to an edge instead (302; the edges
 *   property)
 *
 * Why a client went away (the client-removed signal).
 */
typedef enum {
    GST_WM_NET_SINK_REMOVE_REASON_CLOSED,
    GST_WM_NET_SINK_REMOVE_REASON_DISCONNECTED,
    GST_WM_NET_SINK_REMOVE_REASON_SLOW,
    GST_WM_NET_SINK_REMOVE_REASON_ERROR,
    GST_WM_NET_SINK_REMOVE_REASON_OVER_LIMIT,
    GST_WM_NET_SINK_REMOVE_REASON_EOS,
    GST_WM_NET_SINK_REMOVE_REASON_FORBIDDEN,
    GST_WM_NET_SINK_REMOVE_REASON_UNAUTHORIZED,
    GST_WM_NET_SINK_REMOVE_REASON_NO_STREAMS,
    GST_WM_NET_SINK_REMOVE_REASON_REMOVED,
    GST_WM_NET_SINK_REMOVE_REASON_LOOP,
    GST_WM_NET_SINK_REMOVE_REASON_REDIRECTED,
} GstWmNetSinkRemoveReason;

#define GST_TYPE_WM_NET_SINK_PROTOCOL (gst_wm_net_sink_protocol_get_type())
GType gst_wm_net_sink_protocol_get_type(void);

#define GST_TYPE_WM_NET_SINK_REMOVE_REASON (gst_wm_net_sink_remove_reason_get_type())
GType gst_wm_net_sink_remove_reason_get_type(void);

/**
 * GstWmNetSinkRecoverPolicy:
 * Where a client past units-soft-max continues (values as tcpserversink's).
 */
typedef enum {
    GST_WM_NET_SINK_RECOVER_POLICY_NONE,
    GST_WM_NET_SINK_RECOVER_POLICY_LATEST,
    GST_WM_NET_SINK_RECOVER_POLICY_SOFT_LIMIT,
    GST_WM_NET_SINK_RECOVER_POLICY_KEYFRAME,
    GST_WM_NET_SINK_RECOVER_POLICY_THIN,
} GstWmNetSinkRecoverPolicy;

#define GST_TYPE_WM_NET_SINK_RECOVER_POLICY (gst_wm_net_sink_recover_policy_get_type())
GType gst_wm_net_sink_recover_policy_get_type(void);

#define GST_TYPE_WM_NET_SINK (gst_wm_net_sink_get_type())
G_DECLARE_FINAL_TYPE(GstWmNetSink, gst_wm_net_sink, GST, WM_NET_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(wmnetsink);

G_END_DECLS
