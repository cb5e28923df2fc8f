"""callscope.selfservice: the knowledge base beyond the phone.

* ``helpcenter`` renders the public help center (``GET /help``) and searches it with
  the IVR's matcher;
* ``messaging`` answers SMS and WhatsApp texts (Twilio Messaging webhook) from the
  same knowledge base;
* ``conversations`` is the conversation store shared by every channel (voice, sms,
  whatsapp, web, and the chat/e-mail/survey texts mined by ``insights --text-file``);
* ``metrics`` computes self-service deflection per channel;
* ``notify`` hands conversations over to an agent queue (webhook and/or e-mail).

The HTTP routes live in :mod:`callscope.api.routers.helpcenter` and
:mod:`callscope.api.routers.messaging`.
"""
