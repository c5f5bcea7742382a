# The ES modules of the browser library, under web/herald/, in the order
# cmake/bundle_web.cmake joins them into herald.js: each after every module it imports.
# http/CMakeLists.txt includes this list too, so that editing any module rebuilds the bundle.
set(HERALD_WEB_MODULES
  helpers.js
  bookkeeping.js
  transports/websocket.js
  transports/http.js
  transports/jsonp.js
  transports/frame.js
  transports/index.js
  engine.js
  follower.js
  client.js
  index.js
)
