// The live feed of the index page: posts published while the page is open appear at the top,
// edited ones change, deleted ones go. The server sends them as server-sent events (see
// blog/live.py); EventSource reconnects by itself and tells the server the last event it got,
// so none is missed.
"use strict";

(function () {
  const posts = document.getElementById("posts");
  const status = document.getElementById("live-status");
  if (!posts || !status || !window.EventSource) {
    return;
  }
  const userId = posts.dataset.userId;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    // textContent, never innerHTML: a title is shown as text, whatever characters it holds.
    node.textContent = text;
    return node;
  }

  // The same markup as templates/blog/_post.html.
  function render(post) {
    const article = element("article", "post new", "");
    article.id = "post-" + post.id;
    const header = document.createElement("header");
    header.append(
      element("h2", "", post.title),
      element("p", "meta", "by " + post.author.username + " on " + post.created),
    );
    if (userId && String(post.author.id) === userId) {
      const edit = element("a", "edit", "Edit");
      edit.href = post.edit_url;
      header.append(edit);
    }
    article.append(header, element("p", "body", post.body));
    return article;
  }

  const source = new EventSource(posts.dataset.feedUrl);
  // "ready" is the server's first event: from then on, no new post can be missed.
  source.addEventListener("ready", function () {
    setStatus("live", "Live: new posts appear here as they are published.");
  });
  source.addEventListener("error", function () {
    setStatus("reconnecting", "Reconnecting to the live feed…");
  });
  source.addEventListener("post", function (event) {
    const post = JSON.parse(event.data);
    if (document.getElementById("post-" + post.id)) {
      return; // on the page already (rendered, or received before a reconnection)
    }
    const empty = posts.querySelector(".empty");
    if (empty) {
      empty.remove();
    }
    posts.prepend(render(post));
  });
  source.addEventListener("edit", function (event) {
    const post = JSON.parse(event.data);
    const shown = document.getElementById("post-" + post.id);
    if (shown) {
      shown.querySelector("h2").textContent = post.title;
      shown.querySelector(".body").textContent = post.body;
    }
  });
  source.addEventListener("delete", function (event) {
    const shown = document.getElementById("post-" + JSON.parse(event.data).id);
    if (shown) {
      shown.remove();
    }
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
