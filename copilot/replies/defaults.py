"""The store policies and reply templates a new installation starts with (migration 0002).

Both are edited in the admin afterwards; these are the demo store's (Northwind Goods) and a
sensible start for any apparel and home-goods store. The data migration copies them once, as
they are when it runs: later edits here do not touch an installation's rows.

Template placeholders (filled from the facts; a template whose facts are missing is not offered):
{customer_first_name} {customer_name} {order_number} {order_status} {order_date} {order_total}
{items} {carrier} {tracking_number} {tracking_url} {refund_amount} {store_name}
{policy_<key>} (a policy's text, e.g. {policy_returns}) and {agent_first_name} (the agent who
sends it, filled when the card shows the draft). Intent `_general` is the last resort.
"""

POLICIES = [
    (
        "returns",
        "Returns",
        "Unworn, unwashed items can be returned within 30 days of delivery for a full refund. "
        "Start a return from the link in the order confirmation email and we email a prepaid "
        "return label. Final-sale items and opened bedding cannot be returned.",
    ),
    (
        "refunds",
        "Refunds",
        "Refunds go back to the original payment method within 5 business days of the return "
        "reaching our warehouse; banks then take 5 to 10 business days to show them. Shipping "
        "fees are refunded only when the item was damaged, wrong or the order was cancelled.",
    ),
    (
        "shipping",
        "Shipping times and costs",
        "Orders ship within 1 to 2 business days. Standard delivery takes 3 to 5 business days "
        "in the US and 7 to 14 business days internationally. Standard shipping costs $8.00 and "
        "is free on orders of $150 or more. Express shipping (1 to 2 business days) costs $25.00.",
    ),
    (
        "cancellations",
        "Cancellations and changes",
        "An order can be cancelled or changed (items, sizes, shipping address) until it ships, "
        "usually within 24 hours of being placed. Once shipped it cannot be cancelled, but it "
        "can be returned for a full refund.",
    ),
    (
        "exchanges",
        "Exchanges",
        "Size and colour exchanges are free within 30 days of delivery: we reserve the new item "
        "as soon as the return is on its way.",
    ),
    (
        "damaged_items",
        "Damaged, defective or wrong items",
        "Report a damaged, defective or wrong item within 14 days of delivery with a photo. We "
        "send a replacement or a full refund, whichever the customer prefers, and there is no "
        "need to return the damaged item.",
    ),
    (
        "discounts",
        "Discount codes",
        "Discount codes apply to full-price items only, one code per order, and cannot be added "
        "after an order is placed. After a delivery problem agents may offer a 10% goodwill "
        "discount on the next order.",
    ),
]

_EN_SIGN_OFF = "\n\nBest,\n{agent_first_name}"
_ES_SIGN_OFF = "\n\nSaludos,\n{agent_first_name}"
_FR_SIGN_OFF = "\n\nCordialement,\n{agent_first_name}"
_DE_SIGN_OFF = "\n\nViele Grüße\n{agent_first_name}"


def _en(body: str) -> str:
    return "Hi {customer_first_name},\n\n" + body + _EN_SIGN_OFF


def _es(body: str) -> str:
    return "Hola {customer_first_name}:\n\n" + body + _ES_SIGN_OFF


def _fr(body: str) -> str:
    return "Bonjour {customer_first_name},\n\n" + body + _FR_SIGN_OFF


def _de(body: str) -> str:
    return "Hallo {customer_first_name},\n\n" + body + _DE_SIGN_OFF


# (intent, language, name, text)
TEMPLATES = [
    # --- track_order
    ("track_order", "en", "Tracking link", _en(
        "Your order {order_number} has shipped with {carrier}. You can follow it here: "
        "{tracking_url} (tracking number {tracking_number}). Carriers can take a day to show "
        "the latest scan."
    )),
    ("track_order", "en", "Order status", _en(
        "Thanks for checking in! Your order {order_number}, placed on {order_date}, is "
        "{order_status}. I'll keep an eye on it and you'll get an email with the tracking link "
        "as soon as it ships."
    )),
    ("track_order", "es", "Tracking link", _es(
        "Tu pedido {order_number} ya salió con {carrier}. Puedes seguirlo aquí: {tracking_url} "
        "(número de seguimiento {tracking_number}). El transportista puede tardar un día en "
        "mostrar el último escaneo."
    )),
    ("track_order", "es", "Order status", _es(
        "¡Gracias por escribirnos! Tu pedido {order_number}, realizado el {order_date}, está "
        "{order_status}. Recibirás un correo con el enlace de seguimiento en cuanto salga."
    )),
    ("track_order", "fr", "Tracking link", _fr(
        "Votre commande {order_number} a été expédiée avec {carrier}. Vous pouvez la suivre "
        "ici : {tracking_url} (numéro de suivi {tracking_number}). Le transporteur peut mettre "
        "un jour à afficher le dernier scan."
    )),
    ("track_order", "fr", "Order status", _fr(
        "Merci pour votre message ! Votre commande {order_number}, passée le {order_date}, est "
        "{order_status}. Vous recevrez un e-mail avec le lien de suivi dès son expédition."
    )),
    ("track_order", "de", "Tracking link", _de(
        "Ihre Bestellung {order_number} wurde mit {carrier} verschickt. Sie können sie hier "
        "verfolgen: {tracking_url} (Sendungsnummer {tracking_number}). Der letzte Scan kann "
        "beim Versanddienst einen Tag dauern."
    )),
    ("track_order", "de", "Order status", _de(
        "Danke für Ihre Nachricht! Ihre Bestellung {order_number} vom {order_date} ist "
        "{order_status}. Sobald sie verschickt wird, erhalten Sie eine E-Mail mit dem "
        "Tracking-Link."
    )),
    # --- cancel_order
    ("cancel_order", "en", "Cancellation", _en(
        "I can help with cancelling order {order_number}. It is {order_status} at the moment. "
        "{policy_cancellations}"
    )),
    ("cancel_order", "es", "Cancellation", _es(
        "Puedo ayudarte a cancelar el pedido {order_number}; ahora mismo está {order_status}. "
        "Un pedido se puede cancelar mientras no haya salido del almacén; si ya salió, puedes "
        "devolverlo para obtener un reembolso."
    )),
    ("cancel_order", "fr", "Cancellation", _fr(
        "Je peux vous aider à annuler la commande {order_number} ; elle est actuellement "
        "{order_status}. Une commande peut être annulée tant qu'elle n'est pas expédiée ; "
        "ensuite, elle peut être retournée pour un remboursement."
    )),
    ("cancel_order", "de", "Cancellation", _de(
        "Gern helfe ich bei der Stornierung der Bestellung {order_number}; sie ist derzeit "
        "{order_status}. Eine Bestellung kann storniert werden, solange sie nicht verschickt "
        "ist; danach kann sie für eine Erstattung zurückgeschickt werden."
    )),
    # --- change_order
    ("change_order", "en", "Change before shipping", _en(
        "Happy to help change order {order_number}. It is {order_status} right now. Orders can "
        "be changed until they ship, so please reply with exactly what you'd like changed and "
        "I'll update it."
    )),
    # --- change_shipping_address
    ("change_shipping_address", "en", "New address", _en(
        "I can update the delivery address on order {order_number} as long as it has not "
        "shipped yet (it is {order_status}). Please reply with the full new address, including "
        "the postcode, and I'll confirm once it's changed."
    )),
    ("change_shipping_address", "es", "New address", _es(
        "Puedo cambiar la dirección de entrega del pedido {order_number} mientras no haya "
        "salido (ahora está {order_status}). Envíanos la nueva dirección completa, con el "
        "código postal, y te confirmo el cambio."
    )),
    # --- get_refund
    ("get_refund", "en", "Refund", _en(
        "I'm sorry order {order_number} didn't work out. {policy_refunds} Let me know which "
        "items you'd like refunded and I'll take care of it."
    )),
    ("get_refund", "es", "Refund", _es(
        "Siento que el pedido {order_number} no haya salido bien. Los reembolsos vuelven al "
        "método de pago original. Dime qué artículos quieres que te reembolsemos y me encargo."
    )),
    ("get_refund", "fr", "Refund", _fr(
        "Je suis désolé que la commande {order_number} ne vous convienne pas. Les "
        "remboursements sont faits sur le moyen de paiement d'origine. Dites-moi quels "
        "articles rembourser et je m'en occupe."
    )),
    ("get_refund", "de", "Refund", _de(
        "Es tut mir leid, dass die Bestellung {order_number} nicht gepasst hat. Erstattungen "
        "gehen an die ursprüngliche Zahlungsmethode. Sagen Sie mir, welche Artikel erstattet "
        "werden sollen, und ich kümmere mich darum."
    )),
    # --- track_refund
    ("track_refund", "en", "Refund status", _en(
        "I've checked order {order_number}: {refund_amount} has been refunded to your original "
        "payment method. Banks usually take 5 to 10 business days to show it on your statement."
    )),
    ("track_refund", "en", "Refund timing", _en(
        "Thanks for your patience. {policy_refunds} If it has been longer than that, reply "
        "here and I'll look into it with our payments team."
    )),
    # --- return_or_exchange
    ("return_or_exchange", "en", "Return or exchange", _en(
        "Of course! {policy_returns} {policy_exchanges}"
    )),
    ("return_or_exchange", "es", "Return or exchange", _es(
        "¡Claro! Puedes devolver los artículos sin usar en los 30 días posteriores a la "
        "entrega. Inicia la devolución desde el enlace del correo de confirmación del pedido "
        "y te enviaremos una etiqueta. Los cambios de talla o color son gratuitos."
    )),
    ("return_or_exchange", "fr", "Return or exchange", _fr(
        "Bien sûr ! Vous pouvez retourner les articles non portés dans les 30 jours suivant la "
        "livraison. Lancez le retour depuis le lien de l'e-mail de confirmation et nous vous "
        "enverrons une étiquette. Les échanges de taille ou de couleur sont gratuits."
    )),
    ("return_or_exchange", "de", "Return or exchange", _de(
        "Natürlich! Ungetragene Artikel können innerhalb von 30 Tagen nach der Lieferung "
        "zurückgegeben werden. Starten Sie die Rücksendung über den Link in der "
        "Bestellbestätigung, dann senden wir Ihnen ein Etikett. Umtausch von Größe oder Farbe "
        "ist kostenlos."
    )),
    # --- damaged_or_wrong_item
    ("damaged_or_wrong_item", "en", "Damaged or wrong item", _en(
        "I'm so sorry about the problem with order {order_number}. Could you send a photo of "
        "the item? {policy_damaged_items}"
    )),
    ("damaged_or_wrong_item", "es", "Damaged or wrong item", _es(
        "Siento mucho el problema con el pedido {order_number}. ¿Puedes enviarnos una foto del "
        "artículo? Te enviaremos un reemplazo o un reembolso, lo que prefieras."
    )),
    ("damaged_or_wrong_item", "fr", "Damaged or wrong item", _fr(
        "Je suis vraiment désolé pour le problème avec la commande {order_number}. Pouvez-vous "
        "nous envoyer une photo de l'article ? Nous vous enverrons un remplacement ou un "
        "remboursement, selon votre préférence."
    )),
    ("damaged_or_wrong_item", "de", "Damaged or wrong item", _de(
        "Das Problem mit der Bestellung {order_number} tut mir sehr leid. Können Sie uns ein "
        "Foto des Artikels schicken? Wir senden Ihnen Ersatz oder erstatten den Betrag, ganz "
        "wie Sie möchten."
    )),
    # --- missing_package
    ("missing_package", "en", "Package not received", _en(
        "I'm sorry your package hasn't turned up. Order {order_number} went out with {carrier} "
        "(tracking: {tracking_url}). Could you check with neighbours and around your door? If "
        "it's still missing, reply here and I'll open a claim with the carrier right away."
    )),
    # --- delivery_options / delivery_period
    ("delivery_options", "en", "Shipping options", _en(
        "Here are our shipping options: {policy_shipping}"
    )),
    ("delivery_period", "en", "Delivery times", _en("Good question! {policy_shipping}")),
    ("delivery_period", "es", "Delivery times", _es(
        "¡Buena pregunta! Los pedidos salen en 1 a 2 días hábiles. La entrega estándar tarda de "
        "3 a 5 días hábiles en EE. UU. y de 7 a 14 días hábiles en el resto del mundo."
    )),
    # --- payment_issue
    ("payment_issue", "en", "Payment problem", _en(
        "Sorry about the trouble with the payment. Could you tell me what you see (an error "
        "message at checkout, or a charge on your statement and its amount)? Please don't send "
        "card numbers here; I'll look into it as soon as I hear back."
    )),
    # --- discount_code
    ("discount_code", "en", "Discount code", _en(
        "Sorry the code didn't work. {policy_discounts} If your order has only full-price items, "
        "send me the code and I'll check it."
    )),
    # --- product_question / size_or_fit / restock
    ("product_question", "en", "Product question", _en(
        "Thanks for your interest! Let me check the details with our product team and get back "
        "to you shortly."
    )),
    ("size_or_fit", "en", "Size and fit", _en(
        "Happy to help with sizing! Could you tell me your usual size and measurements? Our "
        "size charts are on each product page. {policy_exchanges}"
    )),
    ("restock_or_availability", "en", "Restock", _en(
        "Thanks for asking! I'll check with our buying team when it's back in stock. You can "
        "also sign up for a restock alert on the product page."
    )),
    # --- contact_human_agent / complaint
    ("contact_human_agent", "en", "A person", _en(
        "You're talking to a real person! Tell me what's going on and I'll do my best to sort "
        "it out."
    )),
    ("complaint", "en", "Complaint", _en(
        "I'm really sorry about your experience, and thank you for telling us. I've read your "
        "message carefully and I'll make sure it reaches the right team. Could you tell me what "
        "would make this right for you?"
    )),
    # --- check_refund_policy / get_invoice / account / confirmation
    ("check_refund_policy", "en", "Return policy", _en(
        "Here's how returns work: {policy_returns} {policy_refunds}"
    )),
    ("get_invoice", "en", "Invoice", _en(
        "Of course! I'll send the invoice for order {order_number}, placed on {order_date}, to "
        "your email address shortly. Let me know if it needs a company name or VAT number."
    )),
    ("subscription_or_account", "en", "Account", _en(
        "Happy to help with your account. For your security, please never share your password "
        "with us; you can reset it from the sign-in page. What would you like to change?"
    )),
    ("order_not_received_confirmation", "en", "Confirmation", _en(
        "Good news: your order {order_number} went through on {order_date} and is "
        "{order_status}. The confirmation email may be in your spam folder."
    )),
    # --- when nothing fits
    ("_general", "en", "Looking into it", _en(
        "Thanks for reaching out! I'm looking into this now and will get back to you shortly."
    )),
    ("_general", "es", "Looking into it", _es(
        "¡Gracias por escribirnos! Estoy revisándolo y te respondo en breve."
    )),
    ("_general", "fr", "Looking into it", _fr(
        "Merci pour votre message ! Je regarde cela tout de suite et je reviens vers vous très "
        "vite."
    )),
    ("_general", "de", "Looking into it", _de(
        "Danke für Ihre Nachricht! Ich sehe mir das gleich an und melde mich in Kürze."
    )),
]  # fmt: skip
